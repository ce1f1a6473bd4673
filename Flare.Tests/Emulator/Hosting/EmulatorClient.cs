using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Emulator.Hosting;

namespace Flare.Tests.Emulator.Hosting;

/// <summary>A fleet served on a loopback port, and an OpenAI-speaking client for tests.</summary>
internal sealed class EmulatorClient : IAsyncDisposable
{
    private EmulatorClient(EmulatorFleet fleet, RunningEmulatorServer server)
    {
        Fleet = fleet;
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public EmulatorFleet Fleet { get; }

    public RunningEmulatorServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<EmulatorClient> StartAsync(params (string Name, EmulatorBackendOptions Options)[] backends)
    {
        var fleet = new EmulatorFleet();
        foreach (var (name, options) in backends)
        {
            fleet.AddOrUpdate(name, options);
        }

        return new EmulatorClient(fleet, await EmulatorServer.StartAsync(fleet, 0, TestContext.Current.CancellationToken));
    }

    public static object Chat(string content, int maxTokens, bool stream, bool ignoreEos = true, bool includeUsage = true) => new
    {
        model = "any-model-name",
        messages = new[] { new { role = "user", content } },
        max_tokens = maxTokens,
        ignore_eos = ignoreEos,
        stream,
        stream_options = new { include_usage = includeUsage },
    };

    public async Task<HttpResponseMessage> PostAsync(string path, object body, int? outputTokens = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (outputTokens is { } n)
        {
            request.Headers.Add(EmulatorEndpoints.OutputTokensHeader, n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }

    /// <summary>Reads an SSE stream to its end (or until the connection breaks).</summary>
    /// <param name="start">Stopwatch timestamp taken before the request was sent; the first token's time is measured from it.</param>
    public static async Task<StreamResult> ReadStreamAsync(HttpResponseMessage response, long start = 0)
    {
        var ct = TestContext.Current.CancellationToken;
        start = start == 0 ? Stopwatch.GetTimestamp() : start;
        var chunks = new List<JsonElement>();
        var content = new List<string>();
        double? firstTokenMs = null;
        var done = false;
        var broken = false;
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                if (line == "data: [DONE]")
                {
                    done = true;
                    continue;
                }

                var chunk = JsonDocument.Parse(line[6..]).RootElement;
                chunks.Add(chunk);
                if (chunk.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0)
                {
                    var c = choices[0];
                    var text = c.TryGetProperty("delta", out var delta)
                        ? delta.TryGetProperty("content", out var dc) ? dc.GetString() : null
                        : c.GetProperty("text").GetString();
                    if (!string.IsNullOrEmpty(text))
                    {
                        firstTokenMs ??= Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        content.Add(text);
                    }
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            broken = true;
        }

        return new StreamResult(chunks, content, done, broken, firstTokenMs);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        await Fleet.DisposeAsync();
    }
}

internal sealed record StreamResult(List<JsonElement> Chunks, List<string> Content, bool Done, bool Broken, double? FirstTokenMs)
{
    public JsonElement? Usage => Chunks.LastOrDefault(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) is { ValueKind: JsonValueKind.Object } last
        ? last.GetProperty("usage")
        : null;
}
