using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit.Abstractions;

namespace XraySynth.Tests.ArchitectureRules;

/// <summary>
/// No method in Core over <see cref="MaxLines"/> lines: a long method mixes jobs and hides bugs (issue 14). Methods
/// are read from the sources with Roslyn's parser. The table of the longest methods and files is printed with
/// <c>scripts/long-methods.sh</c> (this test's output).
/// </summary>
public class MethodLengthTests(ITestOutputHelper output)
{
    public const int MaxLines = 80;

    /// <summary>
    /// The methods that were longer than <see cref="MaxLines"/> when the rule came in, with their line counts then.
    /// A listed method may shrink but not grow; once it is at most <see cref="MaxLines"/> lines (or gone) the test asks
    /// for its entry to be removed. THIS LIST MUST ONLY SHRINK: never add a method to it, split the method instead.
    /// Keys are "path under src/XraySynth.Core: Type.Method".
    /// </summary>
    private static readonly Dictionary<string, int> Allowed = new()
    {
        // Empty since the last four (RestrictedUnpickler.Load 131, DatasetPreparer.Run 99, RealFeatures.Load 90,
        // PickleScanner.Globals 89) were split.
    };

    [Fact]
    public void CoreMethods_AreAtMost80Lines_ExceptTheListedOnes_WhichMayNotGrow()
    {
        var methods = CoreMethods();
        output.WriteLine(Table(methods, 15));
        output.WriteLine(FileTable(10));
        var problems = new List<string>();
        foreach (var m in methods.Where(m => m.Lines > MaxLines))
        {
            if (!Allowed.TryGetValue(m.Key, out var allowed))
                problems.Add($"{m.Key}: {m.Lines} lines (at most {MaxLines}). fix: split it into parts with one job each.");
            else if (m.Lines > allowed)
                problems.Add($"{m.Key}: {m.Lines} lines, more than the {allowed} it had when the rule came in. fix: shorten it (listed methods may only shrink).");
        }
        foreach (var (key, allowed) in Allowed)
        {
            var now = methods.Where(m => m.Key == key).Select(m => m.Lines).DefaultIfEmpty(0).Max();
            if (now <= MaxLines)
                problems.Add($"{key}: now {(now == 0 ? "gone" : $"{now} lines")}, within the rule. fix: remove its entry from {nameof(Allowed)} (the list only shrinks).");
            else if (now < allowed)
                problems.Add($"{key}: now {now} lines (listed at {allowed}). fix: lower its entry to {now} so it cannot grow back.");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n\n" + Table(methods, 15));
    }

    [Fact]
    public void Measure_CountsTheLinesAndBranchPointsOfEachMethod()
    {
        const string source = """
            namespace N;
            class A
            {
                /// <summary>Doc comments do not count.</summary>
                public int F(int x)
                {
                    if (x > 0 && x < 10) return 1;
                    foreach (var i in new[] { 1 }) { }
                    return x switch { 1 => 2, _ => x > 5 ? 3 : 4 };
                }
                public A() { }
                int P { get { return 1; } }
            }
            """;
        var methods = Measure(CSharpSyntaxTree.ParseText(source), "a.cs");
        var f = Assert.Single(methods, m => m.Key == "a.cs: A.F");
        Assert.Equal(6, f.Lines);
        Assert.Equal(6, f.Branches); // if, &&, foreach, two switch arms, ?:
        Assert.Equal(1, Assert.Single(methods, m => m.Key == "a.cs: A.A").Lines);
        Assert.Equal(1, Assert.Single(methods, m => m.Key == "a.cs: A.P.get").Lines);
    }

    /// <summary>One method, constructor, operator or accessor with a body: where it is, its lines from the signature to
    /// the closing brace (doc comments excluded, local functions and lambdas included) and its branch points.</summary>
    public sealed record MethodSize(string Key, int Lines, int Branches);

    public static string CoreDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XraySynth.sln")))
                return Path.Combine(dir.FullName, "src", "XraySynth.Core");
        }
        throw new InvalidOperationException($"no XraySynth.sln above {AppContext.BaseDirectory}: run the tests from the repository's build.");
    }

    public static List<MethodSize> CoreMethods()
    {
        var core = CoreDir();
        return Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .SelectMany(f => Measure(CSharpSyntaxTree.ParseText(File.ReadAllText(f), path: f),
                Path.GetRelativePath(core, f).Replace(Path.DirectorySeparatorChar, '/')))
            .ToList();
    }

    public static List<MethodSize> Measure(SyntaxTree tree, string relativePath)
    {
        var result = new List<MethodSize>();
        foreach (var node in tree.GetRoot().DescendantNodes())
        {
            string? name = node switch
            {
                MethodDeclarationSyntax m when m.Body is not null || m.ExpressionBody is not null => m.Identifier.Text,
                ConstructorDeclarationSyntax c => c.Identifier.Text,
                OperatorDeclarationSyntax o => "operator " + o.OperatorToken.Text,
                ConversionOperatorDeclarationSyntax c => "operator " + c.Type,
                AccessorDeclarationSyntax a when a.Body is not null || a.ExpressionBody is not null =>
                    (a.Parent?.Parent is PropertyDeclarationSyntax p ? p.Identifier.Text : a.Parent?.Parent is IndexerDeclarationSyntax ? "this[]" : "?")
                    + "." + a.Keyword.Text,
                _ => null,
            };
            if (name is null) continue;
            var type = string.Join(".", node.Ancestors().OfType<BaseTypeDeclarationSyntax>().Reverse().Select(t => t.Identifier.Text));
            var span = node.GetLocation().GetLineSpan();
            int lines = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
            result.Add(new MethodSize($"{relativePath}: {type}.{name}", lines, Branches(node)));
        }
        return result;
    }

    /// <summary>Branch points: if, each switch case label and switch-expression arm, for, foreach, while, do, catch,
    /// ?:, &amp;&amp;, || and ?? (a method without any has one path).</summary>
    private static int Branches(SyntaxNode node) => node.DescendantNodes().Count(n => n switch
    {
        IfStatementSyntax or ForStatementSyntax or ForEachStatementSyntax or WhileStatementSyntax or DoStatementSyntax
            or CatchClauseSyntax or ConditionalExpressionSyntax or CaseSwitchLabelSyntax or CasePatternSwitchLabelSyntax
            or SwitchExpressionArmSyntax => true,
        BinaryExpressionSyntax b => b.Kind() is SyntaxKind.LogicalAndExpression or SyntaxKind.LogicalOrExpression or SyntaxKind.CoalesceExpression,
        _ => false,
    });

    public static string Table(IEnumerable<MethodSize> methods, int top)
    {
        var text = new StringBuilder($"longest methods in src/XraySynth.Core (at most {MaxLines} lines each, or listed):\n");
        text.AppendLine(" lines  branches  method");
        foreach (var m in methods.OrderByDescending(m => m.Lines).ThenBy(m => m.Key, StringComparer.Ordinal).Take(top))
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{m.Lines,6}  {m.Branches,8}  {m.Key}"));
        return text.ToString();
    }

    public static string FileTable(int top)
    {
        var core = CoreDir();
        var text = new StringBuilder("longest files in src/XraySynth.Core:\n lines  file\n");
        foreach (var (file, lines) in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
                     .Select(f => (Path.GetRelativePath(core, f), File.ReadLines(f).Count()))
                     .OrderByDescending(x => x.Item2).ThenBy(x => x.Item1, StringComparer.Ordinal).Take(top))
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{lines,6}  {file}"));
        return text.ToString();
    }
}
