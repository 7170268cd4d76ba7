# Prints the public functions of one module defined in a source file, one "name/arity" a line.
#   elixir public_functions.exs <source file> <module name>
# The source is parsed, never compiled or run. Exits 2 when the file does not define the module.
defmodule CtworkflowPublicFunctions do
  @moduledoc false

  def modules({:defmodule, _, [alias_ast, [{:do, body}]]}, parent) do
    name = concat(parent, alias_ast)
    [{name, body} | body |> exprs() |> Enum.flat_map(&modules(&1, name))]
  end

  def modules({:__block__, _, exprs}, parent), do: Enum.flat_map(exprs, &modules(&1, parent))
  def modules(_ast, _parent), do: []

  def functions(body) do
    body |> exprs() |> Enum.flat_map(&arities/1) |> Enum.uniq() |> Enum.sort()
  end

  defp concat(nil, {:__aliases__, _, parts}), do: Module.concat(parts)
  defp concat(parent, {:__aliases__, _, parts}), do: Module.concat([parent | parts])
  defp concat(_parent, other), do: other

  defp exprs({:__block__, _, exprs}), do: exprs
  defp exprs(expr), do: [expr]

  defp arities({kind, _, [head | _]}) when kind in [:def, :defdelegate] do
    case call(head) do
      {name, args} when is_atom(name) ->
        total = length(args)
        defaults = Enum.count(args, &match?({:\\, _, _}, &1))
        for arity <- (total - defaults)..total, do: {name, arity}

      _ ->
        []
    end
  end

  defp arities(_expr), do: []

  defp call({:when, _, [head | _]}), do: call(head)
  defp call({name, _, args}) when is_atom(name) and is_list(args), do: {name, args}
  defp call({name, _, context}) when is_atom(name) and is_atom(context), do: {name, []}
  defp call(_head), do: nil
end

[path, module_name] = System.argv()
target = Module.concat([module_name])
ast = path |> File.read!() |> Code.string_to_quoted!(file: path)

case Enum.find(CtworkflowPublicFunctions.modules(ast, nil), fn {name, _} -> name == target end) do
  nil ->
    IO.puts(:stderr, "#{path} does not define #{module_name}")
    System.halt(2)

  {_, body} ->
    for {name, arity} <- CtworkflowPublicFunctions.functions(body), do: IO.puts("#{name}/#{arity}")
end
