using System.Collections.Concurrent;
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
/// <remarks>
/// Tiktoken encodes each piece of its pre-tokenizer (a regex split into words, numbers, punctuation and spaces)
/// on its own, so a text's count is the sum of its pieces' counts. The counter remembers the count of each short
/// piece it has seen (up to <see cref="MaxCachedPieces"/> of them, lock-free reads) and asks the tokenizer only
/// for new ones: prompts repeat the same few ten thousand words, and the library's own per-piece cache takes a
/// lock and copies token arrays. That halves the cost of a count (docs/benchmarks.md, "Estimator"); the counts are
/// the library's own (a test compares them).
/// </remarks>
public sealed class O200kTokenCounter : ITokenCounter
{
    /// <summary>Pieces whose counts are remembered, at most (65,536: a few MB).</summary>
    public const int MaxCachedPieces = 1 << 16;

    // Longer pieces (long numbers, base64, runs of symbols) rarely repeat; they are counted each time.
    private const int MaxCachedLength = 32;

    private static readonly Lazy<O200kTokenCounter> Instance = new(() => new O200kTokenCounter());

    private readonly Tokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private readonly PreTokenizer _preTokenizer;
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    private int _cached;

    private O200kTokenCounter()
    {
        _preTokenizer = _tokenizer.PreTokenizer ?? throw new InvalidOperationException("o200k_base has no pre-tokenizer.");
        _pieces = new ConcurrentDictionary<string, int>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The one instance (loading the vocabulary takes a few hundred milliseconds, once).</summary>
    public static O200kTokenCounter Shared => Instance.Value;

    /// <inheritdoc />
    public string Name => "o200k_base";

    /// <inheritdoc />
    public int Count(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var total = 0;
        foreach (var (offset, length) in _preTokenizer.PreTokenize(text))
        {
            var piece = text.AsSpan(offset, length);
            if (!_pieces.TryGetValue(piece, out var count))
            {
                count = _tokenizer.CountTokens(piece, considerPreTokenization: false);
                if (length <= MaxCachedLength && Volatile.Read(ref _cached) < MaxCachedPieces && _pieces.TryAdd(piece, count))
                {
                    Interlocked.Increment(ref _cached);
                }
            }

            total += count;
        }

        return total;
    }
}
