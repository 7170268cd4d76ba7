# An ExUnit formatter that writes one line per finished test to $EXUNIT_REPORT_FILE:
#   <state>\t<file>\t<time in microseconds>\t<Base64 of the failure text>\t<Base64 of the id>
# state is passed, failed, invalid or skipped; the id is the test module and the test's name
# ("MyApp.UserTest test creates a user"), unique within a file. It is loaded with `elixir -r` before `mix test`,
# so the project under test needs no dependency for it.
defmodule CtworkflowReportFormatter do
  @moduledoc false
  use GenServer

  @impl true
  def init(opts) do
    path = System.fetch_env!("EXUNIT_REPORT_FILE")
    {:ok, %{path: path, opts: opts, counter: 0}}
  end

  @impl true
  def handle_cast({:test_finished, %ExUnit.Test{} = test}, config) do
    {state, text, config} = describe(test, config)
    file = test.tags[:file] || ""
    id = inspect(test.module) <> " " <> Atom.to_string(test.name)

    line =
      Enum.join(
        [state, file, Integer.to_string(test.time), Base.encode64(text), Base.encode64(id)],
        "\t"
      )

    File.write!(config.path, line <> "\n", [:append])
    {:noreply, config}
  end

  def handle_cast(_event, config), do: {:noreply, config}

  defp describe(%ExUnit.Test{state: nil}, config), do: {"passed", "", config}

  defp describe(%ExUnit.Test{state: {:failed, failures}} = test, config) do
    counter = config.counter + 1
    text = ExUnit.Formatter.format_test_failure(test, failures, counter, 100, &plain/2)
    {"failed", text, %{config | counter: counter}}
  end

  defp describe(%ExUnit.Test{state: {:invalid, module}}, config) do
    text =
      case module do
        %ExUnit.TestModule{state: {:failed, failures}} ->
          counter = config.counter + 1
          ExUnit.Formatter.format_test_all_failure(module, failures, counter, 100, &plain/2)

        _ ->
          "the test module failed before this test ran"
      end

    {"invalid", text, config}
  end

  defp describe(%ExUnit.Test{}, config), do: {"skipped", "", config}

  defp plain(_kind, message), do: message
end
