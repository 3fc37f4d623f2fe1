namespace XraySynth.Tests.Support;

/// <summary>Runs one command line through the CLI in this process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = XraySynth.Cli.Cli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
