using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Runtime;

/// <summary>One row of a module summary: a submodule call (or one of its extra outputs, named "name:1", …).</summary>
/// <param name="Name">Dotted submodule name; "&lt;top-level&gt;" for the root; ":k" marks the k-th output.</param>
/// <param name="Parameters">Parameter elements first seen at this row (not counted by an earlier row).</param>
/// <param name="Buffers">Buffer elements first seen at this row.</param>
/// <param name="OutputShape">Shape of this output; null when the call returned no tensor.</param>
/// <param name="OutputDtype">Element type of this output ("float32", …); null when none.</param>
public sealed record ModuleSummaryRow(string Name, long Parameters, long Buffers, long[]? OutputShape,
    string? OutputDtype);

/// <summary>The per-layer table of one forward pass, with totals.</summary>
/// <param name="ModuleType">Type name of the root module.</param>
/// <param name="Rows">Rows in the order the calls finished (children before their parents).</param>
/// <param name="TotalParameters">Sum of the rows' parameters.</param>
/// <param name="TotalBuffers">Sum of the rows' buffers.</param>
public sealed record ModuleSummaryResult(string ModuleType, IReadOnlyList<ModuleSummaryRow> Rows,
    long TotalParameters, long TotalBuffers);

/// <summary>
/// A per-layer table like the official print_module_summary: runs one forward with hooks on every submodule and
/// records, per call up to <c>maxNesting</c> levels below the root, the output shapes and the parameters and buffers
/// not already counted. Works for any TorchSharp module whose submodules are invoked through <c>call(…)</c> (hooks do
/// not fire for a direct <c>forward(…)</c>). Returns data; rendering is the caller's business.
/// </summary>
public static class ModuleSummary
{
    /// <summary>
    /// Hooks <paramref name="root"/> and its submodules, runs <paramref name="forward"/> (which should call
    /// <c>root.call(…)</c>; its tensors are disposed afterwards) and returns the table. Calls whose parameters,
    /// buffers and outputs were all seen before are dropped when <paramref name="skipRedundant"/> is set.
    /// </summary>
    public static ModuleSummaryResult Run(nn.Module root, Action forward, int maxNesting = 3, bool skipRedundant = true)
    {
        var recorder = new Recorder(maxNesting);
        var modules = new List<(string Name, nn.Module Module)> { ("<top-level>", root) };
        modules.AddRange(root.named_modules());
        var names = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in modules)
            names.TryAdd(module, name);

        var removers = new List<object>();
        var previous = Recorder.Current;
        Recorder.Current = recorder;
        try
        {
            foreach (var module in names.Keys)
                removers.AddRange(Hook(module));
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            forward();
        }
        finally
        {
            Recorder.Current = previous;
            foreach (var remover in removers)
                remover.GetType().GetMethod("remove")!.Invoke(remover, null);
        }
        return recorder.Build(root, names, skipRedundant);
    }

    private static IEnumerable<object> Hook(nn.Module module)
    {
        var type = module.GetType();
        var pre = type.GetMethod("register_forward_pre_hook", [typeof(Action<nn.Module>)]);
        var post = type.GetMethod("register_forward_hook", [typeof(Action<nn.Module>)]);
        if (pre is null || post is null)
            yield break; // not hookable: its calls cannot be seen
        yield return pre.Invoke(module, [(Action<nn.Module>)(m => Recorder.Current?.Enter())])!;
        // The typed post hook sees the result; it runs before the untyped one, which closes the entry.
        var typedHookType = FindPostHookType(type);
        if (typedHookType is not null)
        {
            var register = type.GetMethod("register_forward_hook", [typedHookType])!;
            yield return register.Invoke(module, [OutputCapture(typedHookType)])!;
        }
        yield return post.Invoke(module, [(Action<nn.Module>)(m => Recorder.Current?.Exit(m))])!;
    }

    /// <summary>The TPostHook of the module's HookableModule&lt;TPreHook, TPostHook&gt; base.</summary>
    private static Type? FindPostHookType(Type? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(nn.HookableModule<,>))
                return type.GetGenericArguments()[1];
        }
        return null;
    }

    private static readonly Dictionary<Type, Delegate> _captures = [];

    /// <summary>A post hook (module, inputs…, result) → result that hands the result to the recorder.</summary>
    private static Delegate OutputCapture(Type hookType)
    {
        lock (_captures)
        {
            if (_captures.TryGetValue(hookType, out var cached))
                return cached;
            var invoke = hookType.GetMethod("Invoke")!;
            var parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            var result = parameters[^1];
            var capture = typeof(Recorder).GetMethod(nameof(Recorder.CaptureCurrent),
                BindingFlags.Static | BindingFlags.Public)!;
            var body = Expression.Block(
                Expression.Call(capture, Expression.Convert(parameters[0], typeof(nn.Module)),
                    Expression.Convert(result, typeof(object))),
                result);
            var hook = Expression.Lambda(hookType, body, parameters).Compile();
            _captures[hookType] = hook;
            return hook;
        }
    }

    private sealed class Recorder(int maxNesting)
    {
        [ThreadStatic]
        private static Recorder? _current;

        public static Recorder? Current
        {
            get => _current;
            set => _current = value;
        }

        private readonly List<(nn.Module Module, List<Tensor> Outputs, List<(long[] Shape, string Dtype)> Info)>
            _entries = [];
        private readonly Dictionary<nn.Module, List<Tensor>> _pending = new(ReferenceEqualityComparer.Instance);
        private int _nesting;

        public static void CaptureCurrent(nn.Module module, object? result) => _current?.Capture(module, result);

        public void Enter() => _nesting++;

        private void Capture(nn.Module module, object? result) => _pending[module] = Tensors(result).ToList();

        public void Exit(nn.Module module)
        {
            _nesting--;
            var outputs = _pending.Remove(module, out var captured) ? captured : [];
            if (_nesting > maxNesting)
                return;
            // Read shapes now: the tensors may be disposed before the table is built.
            var info = outputs.Select(t => (t.shape, DtypeName(t.dtype))).ToList();
            _entries.Add((module, outputs, info));
        }

        public ModuleSummaryResult Build(nn.Module root, Dictionary<nn.Module, string> names, bool skipRedundant)
        {
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            var rows = new List<ModuleSummaryRow>();
            long totalParams = 0, totalBuffers = 0;
            foreach (var (module, outputs, info) in _entries)
            {
                var newParams = module.parameters().Where(p => !seen.Contains(p)).ToList();
                var newBuffers = module.buffers().Where(b => !seen.Contains(b)).ToList();
                var newOutputs = outputs.Where(o => !seen.Contains(o)).ToList();
                foreach (var t in newParams.Cast<object>().Concat(newBuffers).Concat(newOutputs))
                    seen.Add(t);
                if (skipRedundant && newParams.Count == 0 && newBuffers.Count == 0 && newOutputs.Count == 0)
                    continue;
                var name = names.TryGetValue(module, out var n) ? n : module.GetName();
                var paramCount = newParams.Sum(p => p.numel());
                var bufferCount = newBuffers.Sum(b => b.numel());
                totalParams += paramCount;
                totalBuffers += bufferCount;
                if (info.Count == 0)
                {
                    rows.Add(new ModuleSummaryRow(name, paramCount, bufferCount, null, null));
                    continue;
                }
                for (var i = 0; i < info.Count; i++)
                {
                    var rowName = info.Count >= 2 ? $"{name}:{i}" : name;
                    rows.Add(i == 0
                        ? new ModuleSummaryRow(rowName, paramCount, bufferCount, info[i].Shape, info[i].Dtype)
                        : new ModuleSummaryRow(rowName, 0, 0, info[i].Shape, info[i].Dtype));
                }
            }
            return new ModuleSummaryResult(root.GetType().Name, rows, totalParams, totalBuffers);
        }

        private static IEnumerable<Tensor> Tensors(object? result)
        {
            switch (result)
            {
                case Tensor t:
                    yield return t;
                    break;
                case ITuple tuple:
                    for (var i = 0; i < tuple.Length; i++)
                        if (tuple[i] is Tensor item)
                            yield return item;
                    break;
                case IEnumerable<Tensor> many:
                    foreach (var item in many)
                        yield return item;
                    break;
            }
        }

        private static string DtypeName(ScalarType dtype) => dtype switch
        {
            ScalarType.Byte => "uint8",
            ScalarType.Int8 => "int8",
            ScalarType.Bool => "bool",
            _ => dtype.ToString().ToLowerInvariant(),
        };
    }
}
