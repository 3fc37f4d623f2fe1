using System.CommandLine;
using System.Text.RegularExpressions;
using XraySynth.Cli;
using XraySynth.Cli.Commands;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

/// <summary>The conventions of docs/cli.md, checked on the whole command tree and its help text.</summary>
public class CliConventionTests
{
    /// <summary>Every verb (leaf command) with its command line ("gan generate").</summary>
    private static List<(string Path, Command Verb)> Verbs()
    {
        var verbs = new List<(string, Command)>();
        void Walk(Command c, string path)
        {
            if (c.Subcommands.Count == 0) verbs.Add((path, c));
            foreach (var s in c.Subcommands) Walk(s, path.Length == 0 ? s.Name : $"{path} {s.Name}");
        }
        Walk(XraySynth.Cli.Cli.BuildRoot(), "");
        return verbs;
    }

    private static string Help(string path)
    {
        var (code, output, _) = CliRunner.Run([.. path.Split(' '), "--help"]);
        Assert.Equal(ExitCodes.Ok, code);
        return output;
    }

    [Fact]
    public void Help_ShowsEveryEnumDefaultAsItIsTyped()
    {
        int checkedOptions = 0;
        foreach (var (path, verb) in Verbs())
        {
            var enumOptions = verb.Options.Where(o => !o.Hidden && o.HasDefaultValue && UnderlyingEnum(o.ValueType) is not null).ToList();
            if (enumOptions.Count == 0) continue;
            var help = Help(path);
            foreach (var option in enumOptions)
            {
                var value = option.GetDefaultValue()!.ToString()!;
                var typed = CommonOptions.Kebab(value);
                Assert.Contains($"[default: {typed}]", help);
                if (typed != value) Assert.DoesNotContain($"[default: {value}]", help);
                checkedOptions++;
            }
        }
        Assert.True(checkedOptions >= 8, $"only {checkedOptions} enum options with defaults found");
    }

    [Fact]
    public void Help_NeverPrintsAMachineDependentDefaultAsANumber()
    {
        var prepare = Help("prepare");
        Assert.Matches(@"--workers <N>\s+Parallel workers", prepare);
        Assert.DoesNotMatch(@"all cores|\[default: \d+\]\s*$", Line(prepare, "--workers"));
        foreach (var (path, verb) in Verbs().Where(v => v.Verb.Options.Any(o => o.Name == CommonOptions.ThreadsName)))
        {
            var line = Line(Help(path), CommonOptions.ThreadsName);
            Assert.DoesNotContain("[default:", line);
        }
    }

    [Fact]
    public void Out_NamesWhatTheVerbWrites_AndRunsTheFolderThatHoldsRuns()
    {
        foreach (var (path, verb) in Verbs())
        {
            var visible = verb.Options.Where(o => !o.Hidden).ToList();
            if (visible.FirstOrDefault(o => o.Name == CommonOptions.OutName) is { } output)
                Assert.True(output.HelpName is not "RUNS", $"{path}: --out holds run folders; use CommonOptions.Runs");
            if (visible.Any(o => o.Name == CommonOptions.RunsName))
                Assert.Contains(verb.Options, o => o.Name == CommonOptions.OutName && o.Hidden); // the old spelling still works
        }
        foreach (var makesRuns in new[] { "experiment", "gan train", "classifier train" })
            Assert.Contains(Verbs().Single(v => v.Path == makesRuns).Verb.Options, o => o.Name == CommonOptions.RunsName);
    }

    [Fact]
    public void ValueOptions_ShowAPlaceholderOfTheConventions()
    {
        // DIR kinds, FILE kinds, numbers, enumerations (a|b), alternatives (A|B), lists (A,B / PART,... / A-B,C).
        var placeholder = new Regex(@"^(DIR|ROOT|PREPARED|RUNS|RUN|SNAPSHOT|FILE(\.[a-z]+)?|ZIP|CSV|PKL|N|X|S|PRESET|WORDS" +
                                    @"|[A-Za-z0-9_.:-]+(\|[A-Za-z0-9_.:-]+)+|[A-Z]+(,[A-Z]+)*,\.\.\.|A-B,C|[a-z]+(,[a-z]+)+)$");
        var bad = new List<string>();
        foreach (var (path, verb) in Verbs())
        {
            foreach (var option in verb.Options.Where(o => !o.Hidden && o.ValueType != typeof(bool) && o.Name is not ("--help" or "-h" or "-?")))
            {
                if (option.HelpName is not { } name || !placeholder.IsMatch(name))
                    bad.Add($"{path} {option.Name} <{option.HelpName ?? "(none)"}>");
            }
        }
        Assert.True(bad.Count == 0, "placeholders outside docs/cli.md: " + string.Join(", ", bad));
    }

    [Theory]
    [InlineData("gan", "train", "--data", "x.zip")]
    [InlineData("classifier", "train", "--data", "x")]
    public void TrainVerbs_TakeRuns_AndTheOldOutSpelling_ButNotBoth(params string[] verb)
    {
        using var tmp = new TempDir();
        var (code, _, err) = CliRunner.Run([.. verb, "--runs", tmp.Combine("a"), "--out", tmp.Combine("b")]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("pass --runs only", err);
        Assert.False(Directory.Exists(tmp.Combine("a")) || Directory.Exists(tmp.Combine("b")));
    }

    [Fact]
    public void Experiment_TakesRuns_AndTheOldOutSpelling_ButNotBoth()
    {
        using var tmp = new TempDir();
        var (code, _, err) = CliRunner.Run("experiment", "--config", "x.json", "--runs", tmp.Combine("a"), "--out", tmp.Combine("b"), "--dry-run");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("pass --runs only", err);
    }

    private static Type? UnderlyingEnum(Type t) => (Nullable.GetUnderlyingType(t) ?? t) is { IsEnum: true } e ? e : null;

    private static string Line(string help, string option) =>
        help.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal)) ?? "";
}
