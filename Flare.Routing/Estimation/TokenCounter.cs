using Microsoft.ML.Tokenizers;

namespace Flare.Routing.Estimation;

/// <summary>Counts the tokens of a text: input tokens of a prompt, output tokens of an answer.</summary>
public interface ITokenCounter
{
    /// <summary>The tokenizer's name, for reports.</summary>
    string Name { get; }

    /// <summary>Tokens in <paramref name="text"/>.</summary>
    int Count(string text);
}

/// <summary>The o200k_base byte-pair encoding (GPT-4o's), from Microsoft.ML.Tokenizers with its data package: no
/// file to provide and the same counts on every machine. Counts for other model families differ by a few
/// percent; the estimates only need a consistent ruler. Thread-safe.</summary>
public sealed class O200kTokenCounter : ITokenCounter
{
    private static readonly Lazy<O200kTokenCounter> Instance = new(() => new O200kTokenCounter());

    private readonly Tokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private O200kTokenCounter()
    {
    }

    /// <summary>The one instance (loading the vocabulary takes a few hundred milliseconds, once).</summary>
    public static O200kTokenCounter Shared => Instance.Value;

    /// <inheritdoc />
    public string Name => "o200k_base";

    /// <inheritdoc />
    public int Count(string text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.CountTokens(text);
}
