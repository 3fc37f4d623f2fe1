using System.CommandLine;
using System.CommandLine.Parsing;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary>
/// The command-line options of an options record, built from its declarations (<see cref="OptionDeclaration{TOptions}"/>):
/// each declared flag with its help text, placeholder, default and whether it is required; enum values written and shown
/// in kebab case (<c>[default: weighted-bce]</c>). <see cref="Bind"/> reads the parsed values back into the record.
/// </summary>
public sealed class DeclaredOptions<TOptions> where TOptions : class
{
    private readonly List<(Option Option, Func<ParseResult, TOptions, TOptions> Bind)> _options = [];

    public DeclaredOptions(IEnumerable<OptionDeclaration<TOptions>> declarations)
    {
        foreach (var declaration in declarations.Where(d => d.Flag is not null))
            _options.Add(declaration.Accept(new Builder()));
    }

    /// <summary>The options, in declaration order.</summary>
    public IEnumerable<Option> Options => _options.Select(o => o.Option);

    /// <summary><paramref name="start"/> with every declared option's parsed value (its default when not typed).</summary>
    public TOptions Bind(ParseResult parse, TOptions start) => _options.Aggregate(start, (options, o) => o.Bind(parse, options));

    /// <summary>The flags the user typed (not left at their defaults): what a resume checks against the run.</summary>
    public static IReadOnlySet<string> Typed(ParseResult parse) =>
        parse.CommandResult.Children.OfType<OptionResult>().Where(r => !r.Implicit).Select(r => r.Option.Name).ToHashSet();

    private sealed class Builder : IOptionVisitor<TOptions, (Option, Func<ParseResult, TOptions, TOptions>)>
    {
        public (Option, Func<ParseResult, TOptions, TOptions>) Visit<T>(OptionDeclaration<TOptions, T> d)
        {
            var flag = d.Flag!;
            if (typeof(T) == typeof(IReadOnlyList<string>))
            {
                var list = new Option<string[]>(flag)
                {
                    Description = d.Help, HelpName = d.Placeholder, AllowMultipleArgumentsPerToken = true, Required = d.Required,
                    DefaultValueFactory = _ => [.. (IReadOnlyList<string>)d.Default!],
                };
                return (list, (parse, o) => d.Set(o, (T)(object)parse.GetValue(list)!));
            }
            if (typeof(T).IsEnum) return EnumOption(d);
            var option = new Option<T>(flag) { Description = d.Help, HelpName = d.Placeholder, Required = d.Required };
            if (!d.Required && d.Default is not null && !(d.Default is false)) option.DefaultValueFactory = _ => d.Default;
            return (option, (parse, o) => d.Set(o, parse.GetValue(option)!));
        }

        /// <summary>An enum option: kebab-case names (case-insensitive, see <see cref="EnumNames"/>); the default is shown in
        /// the description as kebab case, since help would show the C# name.</summary>
        private static (Option, Func<ParseResult, TOptions, TOptions>) EnumOption<T>(OptionDeclaration<TOptions, T> d)
        {
            var flag = d.Flag!;
            var names = EnumNames.All(typeof(T));
            var option = new Option<string>(flag)
            {
                Description = $"{d.Help} [default: {OptionDeclaration<TOptions>.ShowValue(d.Default)}]",
                HelpName = d.Placeholder ?? string.Join("|", names),
                Required = d.Required,
            };
            option.Validators.Add(result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!EnumNames.TryParse(typeof(T), text, out _)) result.AddError($"{flag} '{text}': expected one of {string.Join(", ", names)}.");
            });
            return (option, (parse, o) => parse.GetValue(option) is { } text && EnumNames.TryParse(typeof(T), text, out var value)
                ? d.Set(o, (T)value!)
                : d.Set(o, d.Default));
        }
    }
}
