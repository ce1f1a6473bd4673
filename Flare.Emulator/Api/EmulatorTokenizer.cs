using Microsoft.ML.Tokenizers;

namespace Flare.Emulator.Api;

/// <summary>
/// Counts tokens with OpenAI's o200k_base encoding and spells the emulator's output tokens.
/// A chat prompt counts as OpenAI's cookbook counts it for gpt-4o: for each message 3 tokens, plus the tokens of
/// its role and content (and 1 + the tokens of its name, if any); plus 3 tokens that prime the reply.
/// </summary>
public static class EmulatorTokenizer
{
    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    // Common English words that o200k_base encodes as one token each, with their leading space; the
    // pre-tokenizer splits at each space, so n of them in a row count as exactly n tokens.
    private static readonly string[] Words =
    [
        " the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " with", " was", " on", " be",
        " by", " this", " are", " or", " from", " at", " which", " an", " but", " not", " have", " has", " were",
        " can", " all", " more", " one", " their", " also", " time", " new", " other", " some", " about", " only",
        " into", " most", " its", " over", " such", " first", " after", " these", " two", " many", " may",
    ];

    /// <summary>Tokens of <paramref name="text"/> in o200k_base.</summary>
    public static int Count(string text) => text.Length == 0 ? 0 : Encoding.Value.CountTokens(text);

    /// <summary>Prompt tokens of a chat request, as the emulator reports them in <c>usage.prompt_tokens</c>.</summary>
    public static int CountChat(IEnumerable<(string Role, string Content, string? Name)> messages)
    {
        var total = 3;
        foreach (var (role, content, name) in messages)
        {
            total += 3 + Count(role) + Count(content);
            if (name is not null)
            {
                total += 1 + Count(name);
            }
        }

        return total;
    }

    /// <summary>Text of the <paramref name="index"/>-th (0-based) generated token.</summary>
    public static string TokenText(int index) => Words[index % Words.Length];
}
