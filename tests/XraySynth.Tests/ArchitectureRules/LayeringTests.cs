using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using ArchitectureModel = ArchUnitNET.Domain.Architecture;

namespace XraySynth.Tests.ArchitectureRules;

/// <summary>
/// The layering rules of XraySynth (README.md "Layout", docs/DESIGN.md), checked on the compiled assemblies (every
/// type, member signature and method body) so that a violation fails the build's tests. From the floor up:
/// Runtime (files, JSON, devices, errors) ← Imaging ← Data; Statistics and Weights beside them; Gan.Networks ←
/// Gan.* ← Quality; Classifier.*; Experiments on top of Core; the CLI above everything. Each rule is the strongest one
/// that holds today: loosen one only with a reason in its comment.
/// </summary>
public class LayeringTests
{
    private static readonly System.Reflection.Assembly Core = typeof(global::XraySynth.Runtime.Json).Assembly;

    private static readonly Lazy<ArchitectureModel> Loaded = new(() => new ArchLoader()
        .LoadAssemblies(typeof(global::XraySynth.Runtime.Json).Assembly, typeof(global::XraySynth.Cli.Cli).Assembly)
        .Build());

    private static ArchitectureModel Arch => Loaded.Value;

    /// <summary>Types of XraySynth namespace <paramref name="ns"/> and its sub-namespaces (ns = "Gan" covers Gan.*).</summary>
    private static string Under(string ns) => $@"^XraySynth\.{Regex.Escape(ns)}(\..+)?$";

    /// <summary>Types of any XraySynth namespace except <paramref name="allowed"/> (each exactly, no sub-namespaces)
    /// and the namespace of the rule's own types.</summary>
    private static string OursExcept(params string[] allowed) =>
        $@"^XraySynth\.(?!({string.Join("|", allowed.Select(Regex.Escape))})$).+$";

    [Fact]
    public void Core_NeverWritesToTheConsole()
    {
        // The CLI renders; Core reports through IProgress, callbacks and return values (STYLE.md).
        Types().That().ResideInAssembly(Core)
            .Should().NotDependOnAnyTypesThat().HaveFullName("System.Console")
            .Because("Core never writes to the console: the CLI parses and renders")
            .Check(Arch);
    }

    [Fact]
    public void Runtime_DependsOnNothingElseOfOurs()
    {
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Runtime$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Runtime"))
            .Because("Runtime is the floor every other namespace stands on")
            .Check(Arch);
    }

    [Fact]
    public void Imaging_IsTheFloor_DependsOnlyOnRuntime()
    {
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Imaging$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Imaging", "Runtime"))
            .Because("Imaging is the one image loader/writer that everything else uses")
            .Check(Arch);
    }

    [Fact]
    public void Data_KnowsNoModels_DependsOnlyOnImagingAndRuntime_AndNotOnTorch()
    {
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Data$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Data", "Imaging", "Runtime"))
            .Because("Data (MURA, splits, zips, manifests, phantoms) knows no GAN, classifier or metric")
            .Check(Arch);
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Data$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(@"^TorchSharp(\..+)?$")
            .Because("preparing data needs no tensors")
            .Check(Arch);
    }

    [Fact]
    public void Statistics_AndWeights_DependOnlyOnRuntime()
    {
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Statistics$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Statistics", "Runtime"))
            .Check(Arch);
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Weights$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Weights", "Runtime"))
            .Check(Arch);
    }

    [Fact]
    public void GanNetworks_KnowNothingOfTraining_DependOnlyOnRuntime()
    {
        Types().That().ResideInNamespaceMatching(@"^XraySynth\.Gan\.Networks$")
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(OursExcept("Gan.Networks", "Runtime"))
            .Because("the networks are the official architectures, usable without the training loop, snapshots or metrics")
            .Check(Arch);
    }

    [Fact]
    public void Classifier_NeverReferencesGan_QualityOrExperiments()
    {
        Types().That().ResideInNamespaceMatching(Under("Classifier"))
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(@"^XraySynth\.(Gan|Quality|Experiments|Cli)(\..+)?$")
            .Because("the classifier is judged on real images and must be usable without the GAN")
            .Check(Arch);
    }

    [Fact]
    public void Experiments_IsTheTopOfCore_NothingElseInCoreDependsOnIt()
    {
        Types().That().ResideInAssembly(Core).And().DoNotResideInNamespaceMatching(Under("Experiments"))
            .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(Under("Experiments"))
            .Because("the experiment runner composes the stages; no stage may reach back into it")
            .Check(Arch);
    }

    /// <summary>namespace → namespace its compiled code depends on → one dependency ("Type -> Type"), for
    /// <see cref="SourceDependencyTests"/>.</summary>
    public static Dictionary<string, Dictionary<string, string>> CompiledGraph()
    {
        var graph = new Dictionary<string, Dictionary<string, string>>();
        foreach (var type in Arch.Types.Where(t => t.Namespace?.FullName?.StartsWith("XraySynth.", StringComparison.Ordinal) == true))
        {
            var from = type.Namespace!.FullName;
            if (!graph.TryGetValue(from, out var edges)) graph[from] = edges = [];
            // A generic parameter is no dependency (the loader names it after the method that declares it).
            foreach (var dependency in type.Dependencies.Where(d => d.Target is not GenericParameter))
            {
                var to = dependency.Target?.Namespace?.FullName;
                if (to is not null && to != from && to.StartsWith("XraySynth.", StringComparison.Ordinal))
                    edges.TryAdd(to, $"{type.FullName} -> {dependency.Target!.FullName}");
            }
        }
        return graph;
    }

    [Fact]
    public void Namespaces_HaveNoCycles()
    {
        // Every namespace is its own slice ("XraySynth.(**)": Gan.Training and Gan.Generation are two slices).
        ArchUnitNET.Fluent.Slices.SliceRuleDefinition.Slices().Matching("XraySynth.(**)")
            .Should().BeFreeOfCycles()
            .Check(Arch); // a cycle makes two namespaces one: neither can be understood, tested or changed alone
    }
}
