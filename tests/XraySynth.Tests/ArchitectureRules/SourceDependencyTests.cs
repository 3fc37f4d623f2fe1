using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XraySynth.Tests.ArchitectureRules;

/// <summary>
/// Namespace cycles in what the sources name as well as in what the compiled code uses. <see cref="LayeringTests"/>
/// reads the compiled assemblies, which cannot see a constant (the compiler copies its value into the user), a
/// <c>nameof</c> or a <c>cref</c>: the namespace cycle of issue 14 (Gan.Generation used
/// <c>Training.TrainingSnapshot.OptionsSection</c>, a constant) ran through one. Here every type our sources name is
/// bound with Roslyn where it is written (usings and enclosing namespaces as the compiler sees them), and those edges
/// join the compiled code's edges before the cycle search.
/// </summary>
public class SourceDependencyTests
{
    [Fact]
    public void Namespaces_HaveNoCycles_CountingConstantsNameofAndCrefs()
    {
        var graph = SourceGraph();   // a copy of its own: the compiled edges are added to it below
        Assert.Contains("XraySynth.Gan.Networks", graph["XraySynth.Gan.Training"].Keys); // the graph is real
        foreach (var (from, edges) in LayeringTests.CompiledGraph())
        {
            if (!graph.TryGetValue(from, out var known)) graph[from] = known = [];
            foreach (var (to, where) in edges) known.TryAdd(to, where);
        }
        foreach (var to in graph.Values.SelectMany(e => e.Keys).ToList()) graph.TryAdd(to, []);
        var cycles = Cycles(graph);
        Assert.True(cycles.Count == 0, "namespace cycles (each group reaches itself):\n" + string.Join("\n", cycles.Select(c =>
            string.Join(", ", c) + "\n  " + string.Join("\n  ", c.SelectMany(a => c.Where(b => graph[a].ContainsKey(b))
                .Select(b => $"{a} -> {b}: {graph[a][b]}"))))));
    }

    private static readonly Lazy<Dictionary<string, Dictionary<string, string>>> Sources = new(SourceGraph);

    /// <summary>
    /// The layering rules of <see cref="LayeringTests"/>, checked on what the sources name as well: the compiled code
    /// cannot show a <c>typeof</c> (ArchUnitNET does not see it), a constant, a <c>nameof</c> or a <c>cref</c>. A layer
    /// (the namespace and its sub-namespaces) may name only types of the namespaces listed (each with its sub-namespaces).
    /// </summary>
    [Theory]
    [InlineData("XraySynth.Runtime", "")]
    [InlineData("XraySynth.Imaging", "XraySynth.Runtime")]
    [InlineData("XraySynth.Data", "XraySynth.Imaging XraySynth.Runtime")]
    [InlineData("XraySynth.Statistics", "XraySynth.Runtime")]
    [InlineData("XraySynth.Weights", "XraySynth.Runtime")]
    [InlineData("XraySynth.Gan.Networks", "XraySynth.Runtime")]
    [InlineData("XraySynth.Classifier", "XraySynth.Runtime XraySynth.Imaging XraySynth.Data XraySynth.Statistics XraySynth.Weights")]
    public void Layers_NameOnlyTheLayersBelow_InTheSourcesToo(string layer, string allowed)
    {
        static bool In(string ns, string under) => ns == under || ns.StartsWith(under + ".", StringComparison.Ordinal);
        var may = allowed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var graph = Sources.Value;
        Assert.Contains(graph.Keys, ns => In(ns, layer));   // the layer exists
        var bad = graph.Where(kv => In(kv.Key, layer))
            .SelectMany(kv => kv.Value.Where(e => !In(e.Key, layer) && !may.Any(m => In(e.Key, m)))
                .Select(e => $"{kv.Key} -> {e.Key}: {e.Value}"))
            .ToList();
        Assert.True(bad.Count == 0, $"{layer} names types it may not:\n" + string.Join("\n", bad));
    }

    /// <summary>namespace → namespace whose type it names → one place where it does ("file:line Type").</summary>
    public static Dictionary<string, Dictionary<string, string>> SourceGraph()
    {
        var src = Path.GetDirectoryName(MethodLengthTests.CoreDir())!;
        var files = new[] { "XraySynth.Core", "XraySynth.Cli" }
            .SelectMany(p => Directory.EnumerateFiles(Path.Combine(src, p), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f)).ToList();
        // ImplicitUsings of Directory.Build.props.
        trees.Add(CSharpSyntaxTree.ParseText(string.Concat(new[] { "System", "System.Collections.Generic", "System.IO", "System.Linq",
            "System.Net.Http", "System.Threading", "System.Threading.Tasks" }.Select(n => $"global using {n};\n")), options));
        var ours = new[] { "XraySynth.Core.dll", "xraysynth.dll", "XraySynth.Tests.dll" };
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(f => !ours.Contains(Path.GetFileName(f)))
            .DistinctBy(Path.GetFileName)
            .Select(f => MetadataReference.CreateFromFile(f));
        var compilation = CSharpCompilation.Create("sources", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));

        // The names of our types; each occurrence is bound as a type where it stands (with what qualifies it:
        // Training.TrainingSnapshot), which binds no method body and so stays fast.
        var typeNames = trees.SelectMany(t => t.GetRoot().DescendantNodes().OfType<BaseTypeDeclarationSyntax>())
            .Select(t => t.Identifier.ValueText).ToHashSet(StringComparer.Ordinal);
        var graph = new Dictionary<string, Dictionary<string, string>>();
        foreach (var tree in trees)
        {
            var root = tree.GetRoot();
            if (root.DescendantNodes().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault() is not { } declaration) continue;
            var model = compilation.GetSemanticModel(tree);
            var from = declaration.Name.ToString();
            if (!graph.TryGetValue(from, out var edges)) graph[from] = edges = [];
            foreach (var name in root.DescendantNodes(descendIntoTrivia: true).OfType<SimpleNameSyntax>())
            {
                if (!typeNames.Contains(name.Identifier.ValueText)) continue;
                SyntaxNode written = name.Parent switch
                {
                    QualifiedNameSyntax q when q.Right == name => q,
                    MemberAccessExpressionSyntax m when m.Name == name => m,
                    _ => name,
                };
                var type = model.GetSpeculativeTypeInfo(name.SpanStart, SyntaxFactory.ParseTypeName(written.ToString()),
                    SpeculativeBindingOption.BindAsTypeOrNamespace).Type as INamedTypeSymbol;
                var to = type?.ContainingNamespace?.ToDisplayString();
                if (type is null || type.TypeKind == TypeKind.Error || to is null || to == from
                    || !to.StartsWith("XraySynth.", StringComparison.Ordinal) || edges.ContainsKey(to))
                    continue;
                var line = name.GetLocation().GetLineSpan();
                edges[to] = $"{Path.GetFileName(line.Path)}:{line.StartLinePosition.Line + 1} {type.Name}";
            }
        }
        return graph;
    }

    /// <summary>The strongly connected components with more than one namespace (Tarjan): each group reaches itself.</summary>
    public static List<List<string>> Cycles(Dictionary<string, Dictionary<string, string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph[v].Keys.Order(StringComparer.Ordinal))
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            if (component.Count > 1) result.Add(component);
        }
        foreach (var v in graph.Keys.Order(StringComparer.Ordinal))
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    [Fact]
    public void Cycles_FindsEveryCycleAndOnlyThose()
    {
        Dictionary<string, Dictionary<string, string>> G(params (string From, string To)[] edges)
        {
            var g = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().ToDictionary(n => n, _ => new Dictionary<string, string>());
            foreach (var (from, to) in edges) g[from][to] = "";
            return g;
        }
        Assert.Empty(Cycles(G(("a", "b"), ("b", "c"), ("a", "c"))));
        var one = Assert.Single(Cycles(G(("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"))));
        Assert.Equal(["a", "b", "c"], one.Order());
        Assert.Equal(2, Cycles(G(("a", "b"), ("b", "a"), ("c", "d"), ("d", "c"))).Count);
    }
}
