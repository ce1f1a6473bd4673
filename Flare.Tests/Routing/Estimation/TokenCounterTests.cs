using Flare.Routing.Estimation;
using Microsoft.ML.Tokenizers;

namespace Flare.Tests.Routing.Estimation;

public sealed class TokenCounterTests
{
    private static readonly Tokenizer Library = TiktokenTokenizer.CreateForEncoding("o200k_base");

    // Texts whose pieces are split by the regex's edge cases: runs of spaces before a word (the last space joins
    // the word), line breaks, contractions, digits in groups of three, non-Latin scripts, emoji, special tokens.
    public static TheoryData<string> Texts => new(
        "Hello, world!",
        "a  b   c\n\n  d\r\n\r\ne",
        "   leading and trailing   ",
        "\t\tindented\tcode();",
        "It's I'M we'll THEY'RE don't",
        "1234567890123 3.14159 -42 1e10",
        "héllo wörld straße İstanbul",
        "你好，世界。こんにちは 안녕하세요 مرحبا",
        "emoji 😀😀👍🏽 and ✓ marks",
        "Hello <|endoftext|> world <|endofprompt|>",
        "def f(x):\n    return {\"a\": [1, 2]}  # comment\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbb",
        "Translate 'cat' to French. Translate 'cat' to French. Translate 'cat' to French.");

    [Theory]
    [MemberData(nameof(Texts))]
    public void Count_AnyText_EqualsTheLibrarysCountOnFirstAndRepeatedCalls(string text)
    {
        var expected = Library.CountTokens(text);

        Assert.Equal(expected, O200kTokenCounter.Shared.Count(text)); // pieces counted by the library, then remembered
        Assert.Equal(expected, O200kTokenCounter.Shared.Count(text)); // pieces from the counter's memory
    }

    [Fact]
    public void Count_EmptyAndShortText_KnownCounts()
    {
        Assert.Equal(0, O200kTokenCounter.Shared.Count(""));
        Assert.Equal(4, O200kTokenCounter.Shared.Count("Hello, world!"));
        Assert.Equal("o200k_base", O200kTokenCounter.Shared.Name);
    }
}
