namespace XraySynth.Tests.Support;

/// <summary>Tests that rely on torch's global random generator (model initialisation) run alone, so other tests
/// drawing random numbers in parallel cannot shift their sequence.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTorch
{
    public const string Name = "serial torch";
}
