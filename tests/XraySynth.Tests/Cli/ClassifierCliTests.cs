using System.Text.RegularExpressions;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

public class ClassifierCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Theory]
    [InlineData("train")]
    [InlineData("evaluate")]
    [InlineData("summary")]
    public void Help_ShowsDefaultsInKebabCase_AndEveryValueHasAnUpperCasePlaceholderOrItsChoices(string verb)
    {
        var (code, help, _) = Run("classifier", verb, "--help");
        Assert.Equal(0, code);
        Assert.DoesNotMatch(new Regex(@"\[default: [A-Z]"), help);
        // Every option that takes a value shows it as <UPPER_CASE> or <a|b|c> (lower-case choices), never <name>.
        foreach (Match m in Regex.Matches(help, @"--[a-z-]+ <([^>]+)>"))
            Assert.Matches(new Regex(@"^([A-Z_]+|[a-z0-9-]+(\|[A-Za-z0-9_-]+)+)$"), m.Groups[1].Value);
    }

    [Fact]
    public void TrainHelp_NamesTheDeclaredDefaults()
    {
        var help = Run("classifier", "train", "--help").Out;
        foreach (var expected in new[] { "[default: weighted-bce]", "[default: natural]", "[default: auroc]", "[default: auto]", "[default: 224]", "[default: runs]",
                                         "<weighted-bce|bce|focal>", "<PREPARED>", "<imagenet|FILE>", "<latest|RUN>", "--runs <RUNS>" })
            Assert.Contains(expected, help);
    }

    [Fact]
    public void Train_UnknownEnumValue_IsAUsageErrorListingTheKebabNames()
    {
        var (code, _, err) = Run("classifier", "train", "--data", "d", "--loss", "hinge");
        Assert.NotEqual(0, code);
        Assert.Contains("--loss 'hinge': expected one of weighted-bce, bce, focal.", err);
    }
}
