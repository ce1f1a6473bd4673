using System.Text;

namespace Flare.Bench.Gateway;

/// <summary>
/// The fastest OpenAI-compatible backend that still looks real: a fixed small <c>chat.completion</c> with
/// usage, or, for <c>"stream":true</c>, an SSE stream of a few chunks (1 ms apart), a usage chunk and
/// <c>[DONE]</c>. It does no work per request beyond reading the body, so what a client measures through
/// Flare minus what it measures directly is Flare's share.
/// </summary>
internal static class FastUpstream
{
    private static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-served","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}""");

    private static readonly byte[][] Chunks =
    [
        Event("""{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-served","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}"""),
        Event("""{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-served","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":null}]}"""),
        Event("""{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-served","choices":[{"index":0,"delta":{"content":" How can I help"},"finish_reason":null}]}"""),
        Event("""{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-served","choices":[{"index":0,"delta":{"content":" you today?"},"finish_reason":"stop"}]}"""),
    ];

    private static readonly byte[] Tail = Encoding.UTF8.GetBytes(
        "data: " + """{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-served","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}""" + "\n\ndata: [DONE]\n\n");

    private static readonly byte[] Models = Encoding.UTF8.GetBytes("""{"object":"list","data":[{"id":"bench-served","object":"model","created":0,"owned_by":"bench"}]}""");

    public static void Run(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", ServeAsync);
        app.MapGet("/v1/models", (HttpContext http) =>
        {
            http.Response.ContentType = "application/json";
            return http.Response.Body.WriteAsync(Models).AsTask();
        });
        app.Run();
    }

    private static async Task ServeAsync(HttpContext http)
    {
        var body = new MemoryStream(512);
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        var stream = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf("\"stream\":true"u8) >= 0;
        var response = http.Response;
        if (!stream)
        {
            response.ContentType = "application/json";
            response.ContentLength = Completion.Length;
            await response.Body.WriteAsync(Completion, http.RequestAborted);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        for (var i = 0; i < Chunks.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(1, http.RequestAborted);
            }

            await response.Body.WriteAsync(Chunks[i], http.RequestAborted);
            await response.Body.FlushAsync(http.RequestAborted);
        }

        await response.Body.WriteAsync(Tail, http.RequestAborted);
    }

    private static byte[] Event(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");
}
