using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Emulator.Engine;
using Flare.Emulator.Hosting;

namespace Flare.Tests.Emulator.Hosting;

[Collection(nameof(HostCollection))]
public sealed class EmulatorFaultTests
{
    private const string Backend = "b";

    private static EmulatorBackendOptions With(EmulatorFaultOptions faults, int seed = 0) =>
        new() { Profile = "llama-3-8b@h100x1", TimeScale = 20, Seed = seed, Faults = faults };

    [Theory]
    [InlineData(429, "rate_limit_error", true)]
    [InlineData(500, "server_error", false)]
    [InlineData(503, "server_error", true)]
    public async Task Completions_ErrorRateOne_ReturnsStatusWithOpenAIErrorBody(int status, string type, bool retryAfter)
    {
        await using var emulator = await EmulatorClient.StartAsync(
            (Backend, With(new EmulatorFaultOptions { ErrorRate = 1, ErrorStatusCode = status, RetryAfterSeconds = 7 })));

        using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat("hi", 5, stream: true));
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("error");

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        Assert.Equal(retryAfter, response.Headers.RetryAfter is not null);
        if (retryAfter)
        {
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter!.Delta);
        }
    }

    [Fact]
    public async Task Completions_ErrorRateHalf_FailsExactlyTheRequestsTheSeedPicks()
    {
        var faults = new EmulatorFaultOptions { ErrorRate = 0.5, ErrorStatusCode = 503 };
        await using var emulator = await EmulatorClient.StartAsync((Backend, With(faults, seed: 11)));

        var statuses = new List<int>();
        for (var i = 0; i < 24; i++)
        {
            using var response = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 2 });
            statuses.Add((int)response.StatusCode);
        }

        var expected = Enumerable.Range(1, 24).Select(n => RequestPlan.For(11, n, faults).ErrorStatus ?? 200).ToList();
        Assert.Equal(expected, statuses);
        Assert.Contains(200, statuses);
        Assert.Contains(503, statuses);
    }

    [Fact]
    public async Task ChatCompletions_Spike_AddsTheConfiguredLatency()
    {
        await using var emulator = await EmulatorClient.StartAsync(
            ("calm", With(EmulatorFaultOptions.None)),
            ("spiky", With(new EmulatorFaultOptions { SpikeProbability = 1, SpikeMs = 6000 })));

        var calm = await FirstTokenMsAsync(emulator, "calm");
        var spiky = await FirstTokenMsAsync(emulator, "spiky");

        // 6000 ms at time scale 20 = 300 ms more before the first token.
        Assert.InRange(spiky - calm, 280, 600);
    }

    [Fact]
    public async Task ChatCompletions_FirstTokenStall_DelaysTheFirstTokenAndKeepsTheStream()
    {
        await using var emulator = await EmulatorClient.StartAsync(
            ("calm", With(EmulatorFaultOptions.None)),
            ("stalled", With(new EmulatorFaultOptions { FirstTokenStallMs = 6000 })));

        var calm = await FirstTokenMsAsync(emulator, "calm");
        var start = Stopwatch.GetTimestamp();
        using var response = await emulator.PostAsync("/stalled/v1/chat/completions", EmulatorClient.Chat("hi", 10, stream: true));
        var stalled = await EmulatorClient.ReadStreamAsync(response, start);

        Assert.InRange(stalled.FirstTokenMs!.Value - calm, 280, 600);
        Assert.Equal(10, stalled.Content.Count);
        Assert.True(stalled.Done);
    }

    [Fact]
    public async Task ChatCompletions_Disconnect_TruncatesTheStreamWithoutDone()
    {
        await using var emulator = await EmulatorClient.StartAsync(
            (Backend, With(new EmulatorFaultOptions { DisconnectProbability = 1, DisconnectAfterTokens = 5 })));

        using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat("hi", 20, stream: true));
        var result = await EmulatorClient.ReadStreamAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(5, result.Content.Count);
        Assert.False(result.Done);
        Assert.True(result.Broken);
        Assert.Null(result.Usage);
    }

    [Fact]
    public async Task Fleet_UpdateFaultsInPlace_AppliesToTheNextRequest()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, With(EmulatorFaultOptions.None)));
        using var before = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 2 });

        var backend = emulator.Fleet.AddOrUpdate(Backend, With(new EmulatorFaultOptions { ErrorRate = 1, ErrorStatusCode = 500 }));
        using var after = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 2 });

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, after.StatusCode);
        Assert.Equal(2, backend.RequestCount);
    }

    private static async Task<double> FirstTokenMsAsync(EmulatorClient emulator, string backend)
    {
        // Warm the connection and the JIT first so only the emulated latency differs.
        using (var warm = await emulator.PostAsync($"/{backend}/v1/chat/completions", EmulatorClient.Chat("hi", 2, stream: true)))
        {
            await EmulatorClient.ReadStreamAsync(warm);
        }

        var start = Stopwatch.GetTimestamp();
        using var response = await emulator.PostAsync($"/{backend}/v1/chat/completions", EmulatorClient.Chat("hi", 3, stream: true));
        return (await EmulatorClient.ReadStreamAsync(response, start)).FirstTokenMs!.Value;
    }
}
