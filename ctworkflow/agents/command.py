"""An agent that runs an external program (a coding agent CLI) on a prompt file."""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.agents.presets import Preset, provider_entry
from ctworkflow.agents.prompt import build_prompt
from ctworkflow.config import get_settings
from ctworkflow.domain import agent_usage
from ctworkflow.domain.network import check_allow_list
from ctworkflow.effects import nofollow, sandbox, shell

PLACEHOLDERS = frozenset(
    {"workspace", "component", "module", "source_path", "test_path", "prompt_file"}
)
PROMPT_ENV_VAR = "AGENT_PROMPT_FILE"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validate_env_names(names: Sequence[object]) -> tuple[str, ...]:
    """Return the names of worker variables an agent may see, or raise InvalidInput."""
    if isinstance(names, str):
        raise errors.InvalidInput("agent_env must be a list of variable names")
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise errors.InvalidInput(f"agent_env entry {name!r} is not a variable name")
        if name.upper().startswith("CTW_"):
            raise errors.InvalidInput(f"agent_env entry {name!r}: CTW_* settings stay private")
        checked.append(name)
    return tuple(checked)


def _placeholders(element: str) -> list[str]:
    """Return the placeholder names of one argv element, format specs included."""
    try:
        parsed = list(string.Formatter().parse(element))
    except ValueError as exc:
        raise errors.InvalidInput(f"agent argv element {element!r} is malformed: {exc}") from None
    names: list[str] = []
    for _literal, field, spec, _conversion in parsed:
        if field is not None:
            names.append(field)
        if spec:
            names.extend(_placeholders(spec))
    return names


def validate_template(argv_template: Sequence[str]) -> tuple[str, ...]:
    """Return the argv template as a tuple, or raise InvalidInput naming a bad placeholder."""
    if isinstance(argv_template, str) or not argv_template:
        raise errors.InvalidInput("agent argv must be a non-empty list of strings")
    template = tuple(argv_template)
    for element in template:
        if not isinstance(element, str):
            raise errors.InvalidInput(f"agent argv element {element!r} is not a string")
        for name in _placeholders(element):
            if name not in PLACEHOLDERS:
                expected = ", ".join("{" + key + "}" for key in sorted(PLACEHOLDERS))
                raise errors.InvalidInput(
                    f"unknown placeholder {{{name}}} in agent argv: expected one of {expected}"
                )
    return template


def _format_seconds(seconds: float) -> str:
    """Return seconds without a useless fraction."""
    return f"{seconds:g}"


class CommandAgent:
    """Run an argv template in the workspace; the program must write the test file.

    The program runs in the sandbox (:mod:`ctworkflow.effects.sandbox`): it writes its
    workspace (and the operator's agent folders), reads its prompt file, and reaches what
    ``network_allow`` names (its model's API) unless ``network`` is False: then nothing.
    """

    name: str = "command"

    def __init__(
        self,
        argv_template: Sequence[str],
        *,
        timeout_s: float | None = None,
        pass_env: Sequence[object] = (),
        network: bool = True,
        preset: Preset | None = None,
        base_url: str | None = None,
        network_allow: Sequence[str] = (),
    ) -> None:
        """Validate the template's placeholders now, so a bad setting fails early.

        ``pass_env`` names variables of the worker's environment the agent sees on top of the
        allow-list (an API key, say); their values are never stored by ctworkflow.
        """
        if timeout_s is not None and not timeout_s > 0:
            raise errors.InvalidInput(f"agent timeout must be positive, not {timeout_s!r}")
        self.argv_template = validate_template(argv_template)
        self.timeout_s = timeout_s
        self.pass_env = validate_env_names(pass_env)
        self.network = network
        self.preset = preset
        self.base_url = base_url
        if preset is not None:
            self.name = preset.name
        # A preset reaches its model provider (agent_base_url's host, else its own) besides
        # what the project allows.
        provider = [] if preset is None else [provider_entry(preset, base_url)]
        self.network_allow = tuple(check_allow_list([*provider, *network_allow]))

    def _env(self, request: AgentRequest, prompt_file: Path, home: Path | None) -> dict[str, str]:
        """The allow-listed environment, the target environment's variables (its interpreter
        first on ``PATH``), the passed-through variables and the prompt file; for a preset,
        its own variables and its home."""
        passed = {name: os.environ[name] for name in self.pass_env if name in os.environ}
        target = dict(request.env or {})
        own: dict[str, str] = {}
        if self.preset is not None and home is not None:
            own = {**self.preset.env(home), "HOME": str(home)}
            if self.base_url is not None:
                own[self.preset.base_url_env] = self.base_url
        return shell.base_env({**target, **passed, **own, PROMPT_ENV_VAR: str(prompt_file)})

    def _argv(self, request: AgentRequest, prompt_file: Path) -> tuple[str, ...]:
        """Return the argv with every placeholder substituted."""
        values = {
            "workspace": str(request.workspace),
            "component": request.component_name,
            "module": request.module_name,
            "source_path": request.source_path,
            "test_path": request.test_path,
            "prompt_file": str(prompt_file),
        }
        return tuple(element.format_map(values) for element in self.argv_template)

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write the prompt file, run the program and check that it wrote the test file."""
        timeout_s = self.timeout_s if self.timeout_s is not None else request.timeout_s
        prompt_dir = Path(tempfile.mkdtemp(prefix="ctw-agent-prompt-"))
        try:
            prompt_file = prompt_dir / "prompt.md"
            prompt = build_prompt(request)
            prompt_file.write_text(prompt, encoding="utf-8")
            home = prompt_dir / "home" if self.preset is not None else None
            if home is not None:
                home.mkdir()
            argv = self._argv(request, prompt_file)
            env = self._env(request, prompt_file, home)
            missing = self._missing_program(argv[0], env)
            if missing is not None:
                return AgentResult(ok=False, argv=argv, error=missing, permanent=True)
            result = shell.run(
                argv,
                cwd=request.workspace,
                timeout_s=timeout_s,
                env=env,
                input=prompt if self.preset is not None and self.preset.prompt_on_stdin else None,
                should_stop=request.should_stop,
                policy=sandbox.for_agent(
                    request.workspace,
                    scratch=(home,) if home is not None else (),
                    readable=(prompt_dir, *_environment_root(request)),
                    network=self.network,
                    allow=self.network_allow,
                ),
            )
        finally:
            shutil.rmtree(prompt_dir, ignore_errors=True)
        return self._result(request, result, timeout_s, env)

    def _missing_program(self, program: str, env: dict[str, str]) -> str | None:
        """Why a preset's program cannot run in the sandbox (one line), or None if it can."""
        if self.preset is None:
            return None
        return program_problem(self.preset, program, env.get("PATH"))

    def _result(
        self,
        request: AgentRequest,
        result: shell.CommandResult,
        timeout_s: float,
        env: dict[str, str],
    ) -> AgentResult:
        """What the run did, with everything it printed redacted of the secrets it was handed."""
        secrets = agent_usage.secret_values(env)
        error = _failure(request, result, timeout_s)
        usage = None
        if self.preset is not None:
            usage = self.preset.read_usage(result.stdout)
            said = self.preset.read_error(result.stdout) if error is not None else None
            if said is not None:
                error = f"{error}: {said}"
        return AgentResult(
            ok=error is None,
            argv=result.argv,
            exit_code=result.returncode,
            duration_s=result.duration_s,
            stdout_tail=agent_usage.redact(result.tail("stdout"), secrets),
            stderr_tail=agent_usage.redact(result.tail("stderr"), secrets),
            error=agent_usage.redact(error, secrets) if error is not None else None,
            usage=usage,
            transcript=agent_usage.transcript(result.stdout, result.stderr, secrets),
        )


def program_problem(preset: Preset, program: str, path: str | None) -> str | None:
    """Why ``program`` cannot run as the preset's program in the sandbox, or None: it is not
    installed, or it is under ``/tmp``, which the sandbox hides."""
    found = shutil.which(program, path=path) if "/" not in program else program
    if found is None or not os.access(found, os.X_OK):
        return (
            f"agent {preset.name} needs the program {program!r}, which is not installed: "
            f"{preset.install}, or set 'agent_program' to its path"
        )
    real = Path(os.path.realpath(found))
    if real.is_relative_to("/tmp") and sandbox.configured().mode == sandbox.BUBBLEWRAP:
        return (
            f"agent {preset.name}: its program {real} is under /tmp, which the sandbox hides: "
            "install it outside /tmp"
        )
    return None


def _failure(request: AgentRequest, result: shell.CommandResult, timeout_s: float) -> str | None:
    """Return why the agent run failed, or None if it wrote the test file."""
    settings = get_settings()
    if result.timed_out:
        return f"agent timed out after {_format_seconds(timeout_s)} s"
    if result.stopped:
        return "agent stopped: session cancelled"
    if result.exceeded is not None:
        limit = errors.format_bytes(settings.max_output_bytes)
        return f"agent printed more than {limit} on {result.exceeded} (CTW_MAX_OUTPUT_BYTES)"
    if result.returncode != 0:
        return f"agent exited with status {result.returncode}"
    try:
        size = nofollow.check(
            request.workspace,
            request.test_path,
            max_bytes=settings.max_test_file_bytes,
            setting="CTW_MAX_TEST_FILE_BYTES",
        )
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return str(error)
    if size is None:
        return f"agent did not write {request.test_path}"
    return None


def _environment_root(request: AgentRequest) -> tuple[Path, ...]:
    """The target environment's folder (the sandbox hides it from every other run)."""
    root = (request.env or {}).get("VIRTUAL_ENV")
    return (Path(root),) if root else ()
