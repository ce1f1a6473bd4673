using Microsoft.ML.Tokenizers;

namespace Flare.Web.Profiling;

/// <summary>
/// Builds chat prompts of an exact token count in o200k_base, counted as OpenAI's cookbook counts a chat for
/// gpt-4o: 3 priming tokens, plus 3 per message and the tokens of its role and content. The words are drawn at
/// random (seeded), so no two prompts share a prefix a server's prefix cache could reuse; a server with another
/// tokenizer reports its own count in <c>usage</c>, which is what a sample records.
/// </summary>
public sealed class PromptBuilder
{
    /// <summary>Tokens a one-message user chat adds to its content: 3 priming + 3 per message + "user".</summary>
    public const int ChatOverheadTokens = 7;

    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    // Common English words that o200k_base encodes as one token each with their leading space; its pre-tokenizer
    // splits before each space, so n of them in a row are exactly n tokens. Checked when the list is first used.
    private static readonly Lazy<string[]> Words = new(() =>
        new[]
        {
            " the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " with", " was", " on", " be",
            " by", " this", " are", " or", " from", " at", " which", " an", " but", " not", " have", " has", " were",
            " can", " all", " more", " one", " their", " also", " time", " new", " other", " some", " about", " only",
            " into", " most", " its", " over", " such", " first", " after", " these", " two", " many", " may",
        }.Where(w => Encoding.Value.CountTokens(w) == 1).ToArray());

    /// <summary>Tokens of <paramref name="text"/> in o200k_base.</summary>
    public static int CountTokens(string text) => text.Length == 0 ? 0 : Encoding.Value.CountTokens(text);

    /// <summary>The content of a user message that makes a chat of exactly <paramref name="chatTokens"/> tokens
    /// (at least <see cref="ChatOverheadTokens"/> + 1).</summary>
    public static string UserContent(int chatTokens, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var n = Math.Max(1, chatTokens - ChatOverheadTokens);
        var words = Words.Value;
        var text = new System.Text.StringBuilder(n * 6);
        for (var i = 0; i < n; i++)
        {
            text.Append(words[random.Next(words.Length)]);
        }

        return text.ToString();
    }
}
