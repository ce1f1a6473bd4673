using System.Text;
using Flare.Web.Gateway;

namespace Flare.Tests.Web.Gateway;

/// <summary>The usage capture's filter: the usage-only chunk Flare asked for is kept from a client that did not.</summary>
public sealed class UsageCaptureStreamTests
{
    private const string Open = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
    private const string Token = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";
    private const string Usage = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n";
    private const string Done = "data: [DONE]\n\n";
    private static readonly string Stream = Open + Token + Token + Token + Usage + Done;
    private static readonly string Hidden = Open + Token + Token + Token + Done;

    private static (string Client, UsageCaptureStream Capture) Send(string text, bool hide, IEnumerable<int> pieces)
    {
        using var client = new MemoryStream();
        var capture = new UsageCaptureStream(client, streaming: true, hideUsageChunk: hide);
        var bytes = Encoding.UTF8.GetBytes(text);
        var at = 0;
        foreach (var n in pieces)
        {
            var take = Math.Min(n, bytes.Length - at);
            capture.WriteAsync(bytes.AsMemory(at, take), TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult();
            at += take;
            if (at == bytes.Length)
            {
                break;
            }
        }

        return (Encoding.UTF8.GetString(client.ToArray()), capture);
    }

    private static IEnumerable<int> Whole => [int.MaxValue];

    [Fact]
    public void Hidden_TheUsageOnlyChunkIsDropped_EverythingElsePassesAsIs_AndUsageIsStillRead()
    {
        var (sent, capture) = Send(Stream, hide: true, [Open.Length, Token.Length, Token.Length, Token.Length, Usage.Length, Done.Length]);

        Assert.Equal(Hidden, sent);
        Assert.Equal((7, 3), capture.ReadUsage());
    }

    [Fact]
    public void NotHidden_PassesTheStreamUnchanged()
    {
        var (sent, capture) = Send(Stream, hide: false, Whole);

        Assert.Equal(Stream, sent);
        Assert.Equal((7, 3), capture.ReadUsage());
    }

    [Fact]
    public void Hidden_WritesSplitAnywhere_GiveTheSameBytes()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var longest = seed % 3 == 0 ? 4 : 60;
            var pieces = Enumerable.Range(0, 10_000).Select(_ => random.Next(1, longest + 1)).ToList();

            var (sent, capture) = Send(Stream + Stream.Replace("c1", "c2"), hide: true, pieces);

            Assert.True(Hidden + Hidden.Replace("c1", "c2") == sent, $"seed {seed}: {sent}");
            Assert.Equal((7, 3), capture.ReadUsage());
        }
    }

    [Fact]
    public void Hidden_AContentEventCutAfterItsChoices_IsSentAtOnce_NotHeld()
    {
        using var client = new MemoryStream();
        var capture = new UsageCaptureStream(client, streaming: true, hideUsageChunk: true);
        var cut = Token.IndexOf("\"delta\"", StringComparison.Ordinal);

        capture.Write(Encoding.UTF8.GetBytes(Token[..cut]));

        Assert.Equal(Token[..cut], Encoding.UTF8.GetString(client.ToArray()));
        capture.Write(Encoding.UTF8.GetBytes(Token[cut..]));
        Assert.Equal(Token, Encoding.UTF8.GetString(client.ToArray()));
    }

    [Fact]
    public void Hidden_UsageOnAChunkWithChoices_AndNonJsonEvents_Pass()
    {
        const string withUsage = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n";
        const string comment = ": keep-alive\n\n";
        const string error = "data: {\"error\":{\"message\":\"backend went away\",\"type\":\"upstream_error\",\"param\":null,\"code\":\"upstream_disconnected\"}}\n\n";

        var (sent, _) = Send(comment + withUsage + error + Done, hide: true, [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 1000]);

        Assert.Equal(comment + withUsage + error + Done, sent);
    }
}
