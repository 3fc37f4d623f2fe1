using XraySynth.Gan.Networks;
using XraySynth.Runtime;

namespace XraySynth.Gan.Import;

/// <summary>
/// The official constructor kwargs (init_kwargs of training/networks.py Generator and Discriminator) as our
/// <see cref="GeneratorConfig"/> / <see cref="DiscriminatorConfig"/>: every key that shapes the network is read, keys
/// that only tune speed (fp16_channels_last, fused_modconv_default) are ignored, any other key is refused by name.
/// Throws <see cref="PickleRefusedException"/>.
/// </summary>
public static class PickleArchitecture
{
    /// <summary>G's config from its init_kwargs.</summary>
    public static GeneratorConfig Generator(PyDict kw)
    {
        var k = new Kwargs(kw, "G");
        var mapping = new Kwargs(k.Dict("mapping_kwargs"), "G.mapping_kwargs");
        var synthesis = new Kwargs(k.Dict("synthesis_kwargs"), "G.synthesis_kwargs");
        var defaults = new GeneratorConfig();
        var config = new GeneratorConfig
        {
            ZDim = k.Int("z_dim", defaults.ZDim),
            CDim = k.Int("c_dim", 0),
            WDim = k.Int("w_dim", defaults.WDim),
            ImgResolution = k.Int("img_resolution", -1),
            ImgChannels = k.Int("img_channels", -1),
            Mapping = Mapping(mapping, new MappingConfig()),
            Synthesis = new SynthesisConfig
            {
                ChannelBase = synthesis.Int("channel_base", defaults.Synthesis.ChannelBase),
                ChannelMax = synthesis.Int("channel_max", defaults.Synthesis.ChannelMax),
                NumFp16Res = synthesis.Int("num_fp16_res", 0),
                ConvClamp = synthesis.NullableDouble("conv_clamp", null),
                Architecture = synthesis.Enum("architecture", Architecture.Skip),
                ResampleFilter = synthesis.Doubles("resample_filter", defaults.Synthesis.ResampleFilter),
                UseNoise = synthesis.Bool("use_noise", true),
                Activation = synthesis.Enum("activation", Activation.Lrelu),
                KernelSize = synthesis.Int("kernel_size", 3),
            },
        };
        synthesis.Ignore("fp16_channels_last", "fused_modconv_default");
        k.RefuseOthers();
        mapping.RefuseOthers();
        synthesis.RefuseOthers();
        Validate(config.Validate, "G");
        return config;
    }

    /// <summary>D's config from its init_kwargs.</summary>
    public static DiscriminatorConfig Discriminator(PyDict kw)
    {
        var k = new Kwargs(kw, "D");
        var block = new Kwargs(k.Dict("block_kwargs"), "D.block_kwargs");
        var mapping = new Kwargs(k.Dict("mapping_kwargs"), "D.mapping_kwargs");
        var epilogue = new Kwargs(k.Dict("epilogue_kwargs"), "D.epilogue_kwargs");
        var defaults = new DiscriminatorConfig();
        var blockActivation = block.Enum("activation", Activation.Lrelu);
        var epilogueActivation = epilogue.Enum("activation", Activation.Lrelu);
        if (blockActivation != epilogueActivation)
            throw new PickleRefusedException("D uses different activations in its blocks and its epilogue, which this model does not build");
        var config = new DiscriminatorConfig
        {
            CDim = k.Int("c_dim", 0),
            ImgResolution = k.Int("img_resolution", -1),
            ImgChannels = k.Int("img_channels", -1),
            Architecture = k.Enum("architecture", Architecture.Resnet),
            ChannelBase = k.Int("channel_base", defaults.ChannelBase),
            ChannelMax = k.Int("channel_max", defaults.ChannelMax),
            NumFp16Res = k.Int("num_fp16_res", 0),
            ConvClamp = k.NullableDouble("conv_clamp", null),
            CmapDim = k.NullableInt("cmap_dim"),
            Activation = blockActivation,
            ResampleFilter = block.Doubles("resample_filter", defaults.ResampleFilter),
            FreezeLayers = block.Int("freeze_layers", 0),
            MbstdGroupSize = epilogue.NullableInt("mbstd_group_size", 4),
            MbstdNumChannels = epilogue.Int("mbstd_num_channels", 1),
            Mapping = Mapping(mapping, new MappingConfig()),
        };
        block.Ignore("fp16_channels_last");
        k.RefuseOthers();
        block.RefuseOthers();
        mapping.RefuseOthers();
        epilogue.RefuseOthers();
        Validate(config.Validate, "D");
        return config;
    }

    private static MappingConfig Mapping(Kwargs m, MappingConfig d) => new()
    {
        NumLayers = m.Int("num_layers", d.NumLayers),
        EmbedFeatures = m.NullableInt("embed_features"),
        LayerFeatures = m.NullableInt("layer_features"),
        Activation = m.Enum("activation", d.Activation),
        LrMultiplier = m.Double("lr_multiplier", d.LrMultiplier),
        WAvgBeta = m.NullableDouble("w_avg_beta", d.WAvgBeta),
    };

    private static void Validate(Action validate, string network)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw new PickleRefusedException($"{network}'s init_kwargs do not describe a network this model builds: {e.Message}");
        }
    }

    /// <summary>Typed reads of a kwargs dict that remember which keys were used.</summary>
    private sealed class Kwargs(PyDict dict, string where)
    {
        private readonly HashSet<string> _used = [];

        public PyDict Dict(string key) => Take(key) switch
        {
            null => new PyDict(),
            PyDict d => d,
            var v => throw Bad(key, v, "a dict"),
        };

        public int Int(string key, int fallback) => NullableInt(key, fallback) ?? throw Bad(key, null, "an int");

        public int? NullableInt(string key, int? fallback = null)
        {
            if (!dict.Contains(key))
            {
                _used.Add(key);
                return fallback;
            }
            return Take(key) switch
            {
                null => null,
                long v when v is >= int.MinValue and <= int.MaxValue => (int)v,
                var v => throw Bad(key, v, "an int"),
            };
        }

        public double Double(string key, double fallback) => NullableDouble(key, fallback) ?? throw Bad(key, null, "a number");

        public double? NullableDouble(string key, double? fallback)
        {
            if (!dict.Contains(key))
            {
                _used.Add(key);
                return fallback;
            }
            return Take(key) switch
            {
                null => null,
                long v => v,
                double v => v,
                var v => throw Bad(key, v, "a number"),
            };
        }

        public bool Bool(string key, bool fallback) => dict.Contains(key)
            ? Take(key) as bool? ?? throw Bad(key, dict.Get(key), "a bool")
            : fallback;

        public double[] Doubles(string key, double[] fallback)
        {
            if (!dict.Contains(key))
                return fallback;
            var value = Take(key);
            var items = value switch
            {
                List<object?> l => l,
                PyTuple t => t.Items,
                _ => throw Bad(key, value, "a list of numbers"),
            };
            return items.Select(x => x switch
            {
                long v => v,
                double v => v,
                _ => throw Bad(key, value, "a list of numbers"),
            }).ToArray();
        }

        public T Enum<T>(string key, T fallback) where T : struct, Enum
        {
            if (!dict.Contains(key))
                return fallback;
            var value = Take(key);
            return value is string s && EnumNames.TryParse<T>(s, out var e)
                ? e
                : throw Bad(key, value, $"one of {string.Join(", ", EnumNames.All<T>())}");
        }

        public void Ignore(params string[] keys) => _used.UnionWith(keys);

        public void RefuseOthers()
        {
            var unknown = dict.Keys.OfType<string>().Where(k => !_used.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new PickleRefusedException($"{where} has init kwargs this model does not build: {string.Join(", ", unknown)} " +
                    "(a StyleGAN2 network of stylegan2-ada-pytorch or stylegan3's stylegan2 config is expected)");
        }

        private object? Take(string key)
        {
            _used.Add(key);
            return dict.Get(key);
        }

        private PickleRefusedException Bad(string key, object? value, string expected) =>
            new($"{where}.{key} is {NetworkPickle.Describe(value)}, expected {expected}");
    }
}
