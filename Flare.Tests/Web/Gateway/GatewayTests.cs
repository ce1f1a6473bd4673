using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flare.Data;
using Flare.Data.Gateway;
using Flare.Emulator.Hosting;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Gateway;

[Collection(nameof(HostCollection))]
public sealed class GatewayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Chat(string model, bool stream = false, int maxTokens = 8) => new
    {
        model,
        stream,
        max_tokens = maxTokens,
        ignore_eos = true,
        messages = new[] { new { role = "user", content = "Say hello to the fleet." } },
    };

    [Fact]
    public async Task ChatCompletions_NonStreaming_RoutedRewrittenAndLoggedWithUsageAndCost()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("llama-8b@emu", Header(response, "x-flare-deployment"));
        Assert.Equal(LeastOutstanding, Header(response, "x-flare-policy"));
        Assert.True(double.Parse(Header(response, "x-flare-overhead-ms")!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(8, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var logged = await WaitForLogAsync(f, Header(response, "x-flare-request-id")!);
        Assert.Equal(200, logged.Status);
        Assert.Equal("llama-8b@emu", logged.DeploymentName);
        Assert.Equal(8, logged.OutputTokens);
        Assert.Equal(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), logged.InputTokens);
        // Llama8B sample prices: $0.20 per million tokens in and out.
        Assert.Equal((logged.InputTokens!.Value + 8) * 0.2 / 1e6, logged.CostUsd!.Value, 12);
    }

    [Fact]
    public async Task ChatCompletions_Streaming_PassesChunksAndCapturesUsage()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat("llama-8b", stream: true, maxTokens: 12)) };
        using var response = await f.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = await ReadEventsAsync(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var content = events.Where(e => e != "[DONE]").Select(e => JsonDocument.Parse(e).RootElement)
            .Where(e => e.GetProperty("choices").GetArrayLength() > 0)
            .Select(e => e.GetProperty("choices")[0].GetProperty("delta"))
            .Count(d => !d.TryGetProperty("role", out _) && d.TryGetProperty("content", out _)); // the first chunk only opens the message
        Assert.Equal(12, content);
        // The client did not ask for usage: Flare asked the backend for it, read it, and kept its chunk from the client.
        Assert.DoesNotContain(events, e => e != "[DONE]" && JsonDocument.Parse(e).RootElement.GetProperty("choices").GetArrayLength() == 0);
        var logged = await WaitForLogAsync(f, Header(response, "x-flare-request-id")!);
        Assert.True(logged.Stream);
        Assert.Equal(12, logged.OutputTokens);
        Assert.NotNull(logged.TtftMs);
    }

    [Fact]
    public async Task ChatCompletions_Streaming_ClientThatAskedForUsage_GetsTheUsageChunk()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = "llama-8b", stream = true, max_tokens = 6, ignore_eos = true, stream_options = new { include_usage = true },
                messages = new[] { new { role = "user", content = "Say hello to the fleet." } },
            }),
        };
        using var response = await f.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = await ReadEventsAsync(response);

        var usage = Assert.Single(events, e => e != "[DONE]" && JsonDocument.Parse(e).RootElement.GetProperty("choices").GetArrayLength() == 0);
        Assert.Equal(6, JsonDocument.Parse(usage).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(6, (await WaitForLogAsync(f, Header(response, "x-flare-request-id")!)).OutputTokens);
    }

    [Fact]
    public async Task Completions_StreamingAndNot_Served()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        var prompt = new { model = "llama-8b", prompt = "Once upon a time", max_tokens = 5, ignore_eos = true };

        var plain = await f.Client.PostAsJsonAsync("/v1/completions", prompt, Ct);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(5, JsonDocument.Parse(await plain.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = "llama-8b", prompt = "Once upon a time", max_tokens = 5, ignore_eos = true, stream = true }),
        };
        using var streamed = await f.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = await ReadEventsAsync(streamed);
        Assert.Equal("[DONE]", events[^1]);
        var logged = await WaitForLogAsync(f, Header(streamed, "x-flare-request-id")!);
        Assert.Equal(5, logged.OutputTokens);
    }

    [Fact]
    public async Task RouterName_ChoosesAmongAllDeployments_AndModelsListsBoth()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("flare"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var models = JsonDocument.Parse(await f.Client.GetStringAsync("/v1/models", Ct)).RootElement.GetProperty("data")
            .EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("llama-8b", models);
        Assert.Contains("flare", models);
    }

    [Theory]
    [InlineData("{\"model\": \"llama-8b\", \"messages\": [", 400, null)]
    [InlineData("[1, 2]", 400, null)]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "model")]
    [InlineData("{\"model\": 42, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "model")]
    [InlineData("{\"model\": \"llama-8b\"}", 400, "messages")]
    [InlineData("{\"model\": \"llama-8b\", \"messages\": []}", 400, "messages")]
    [InlineData("{\"model\": \"llama-8b\", \"messages\": \"hi\"}", 400, "messages")]
    [InlineData("{\"model\": \"llama-8b\", \"stream\": \"yes\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "stream")]
    [InlineData("{\"model\": \"llama-8b\", \"max_tokens\": -5, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "max_tokens")]
    [InlineData("{\"model\": \"no-such-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 404, "model")]
    public async Task ChatCompletions_BadRequests_OpenAIErrorWithExactStatus(string body, int status, string? param)
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        var response = await f.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        var error = await AssertOpenAIError(response, status);
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Completions_MissingPrompt_400OnPrompt()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");

        var error = await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/completions", new { model = "llama-8b" }, Ct), 400);
        Assert.Equal("prompt", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Body_OverTheLimit_413()
    {
        await using var f = await GatewayFixture.StartAsync("--Flare:Gateway:MaxRequestBodyBytes=2048");
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        var big = new { model = "llama-8b", messages = new[] { new { role = "user", content = new string('x', 5000) } } };

        await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/chat/completions", big, Ct), 413);
    }

    [Fact]
    public async Task Keys_MissingOrWrong_401()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        using var anonymous = f.Flare.CreateClient();

        await AssertOpenAIError(await anonymous.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 401);
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "sk-flare-not-a-real-key");
        var error = await AssertOpenAIError(await anonymous.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 401);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        await AssertOpenAIError(await anonymous.GetAsync("/v1/models", Ct), 401);
    }

    [Fact]
    public async Task Keys_RevokedKeyRefused_RateLimitedKeyGets429WithRetryAfter()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        var store = f.Flare.Services.GetRequiredService<ApiKeyStore>();
        var limited = (await store.CreateAsync("limited", requestsPerMinute: 2, tokensPerMinute: null, Ct)).Value!;
        using var client = f.Flare.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", limited.Secret);
        await WaitUntilAsync(async () => (await client.GetAsync("/v1/models", Ct)).StatusCode == HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct)).StatusCode);
        var third = await client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);
        await AssertOpenAIError(third, 429);
        Assert.True(int.Parse(third.Headers.GetValues("Retry-After").Single()) >= 1);

        await store.RevokeAsync(limited.Key.Id, Ct);
        await WaitUntilAsync(async () => (await client.GetAsync("/v1/models", Ct)).StatusCode == HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Keys_TokenLimitUsedUp_429UntilTheBucketRefills()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        var store = f.Flare.Services.GetRequiredService<ApiKeyStore>();
        var limited = (await store.CreateAsync("tokens", requestsPerMinute: null, tokensPerMinute: 20, Ct)).Value!;
        using var client = f.Flare.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", limited.Secret);
        await WaitUntilAsync(async () => (await client.GetAsync("/v1/models", Ct)).StatusCode == HttpStatusCode.OK);

        // The first request is admitted; its usage (prompt + 8 output tokens) exceeds the 20-token minute.
        var first = await client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var used = JsonDocument.Parse(await first.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
        Assert.True(used > 20, $"The test needs a request of more than 20 tokens; it used {used}.");

        var second = await client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);
        var error = await AssertOpenAIError(second, 429);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.True(int.Parse(second.Headers.GetValues("Retry-After").Single()) >= 1);
    }

    [Fact]
    public async Task Retry_FirstDeploymentAnswers503_SecondServesIt()
    {
        await using var f = await GatewayFixture.StartAsync();
        var failing = await f.AddDeploymentAsync("llama-8b", "a-failing", new EmulatorFaultOptions { ErrorRate = 1, ErrorStatusCode = 503 });
        await f.AddDeploymentAsync("llama-8b", "b-healthy");

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b-healthy", Header(response, "x-flare-deployment"));
        var logged = await WaitForLogAsync(f, Header(response, "x-flare-request-id")!);
        Assert.Equal(2, logged.Attempts);
        Assert.Contains("flare_retries_total{deployment=\"a-failing\"} 1", await f.Client.GetStringAsync("/metrics", Ct));
        Assert.True(failing.Id > 0);
    }

    [Fact]
    public async Task OnlyDeploymentFails_ErrorRelayedInOpenAIShape()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "only", new EmulatorFaultOptions { ErrorRate = 1, ErrorStatusCode = 500 });

        await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 500);
    }

    [Fact]
    public async Task UnreachableDeployment_502_ThenTakenOut_503()
    {
        await using var f = await GatewayFixture.StartAsync("--Flare:Gateway:FailuresToEject=1", "--Flare:Gateway:EjectSeconds=600");
        await f.AddDeploymentAsync("llama-8b", "dead", baseUrl: "http://127.0.0.1:9/v1");

        var first = await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 502);
        Assert.Equal("upstream_unavailable", first.GetProperty("code").GetString());
        var second = await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 503);
        Assert.Equal("no_healthy_deployment", second.GetProperty("code").GetString());
        Assert.Contains("flare_deployment_healthy{deployment=\"dead\"} 0", await f.Client.GetStringAsync("/metrics", Ct));
    }

    [Fact]
    public async Task EjectedDeployment_ProbedBackIn_WhenItAnswersAgain()
    {
        await using var f = await GatewayFixture.StartAsync("--Flare:Gateway:FailuresToEject=1", "--Flare:Gateway:EjectSeconds=0.2");
        await f.AddDeploymentAsync("llama-8b", "flaky", new EmulatorFaultOptions { ErrorRate = 1, ErrorStatusCode = 503 });
        await AssertOpenAIError(await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct), 503);

        // The probe asks GET {base}/models, which the emulator answers even while it fails completions.
        var routing = f.Flare.Services.GetRequiredService<RoutingState>();
        await WaitUntilAsync(() => Task.FromResult(!routing.State(routing.Snapshot.Deployments[0].Id).IsEjected));
    }

    [Fact]
    public async Task MidStreamDisconnect_EndsWithOpenAIErrorEvent_NotSilentTruncation()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "cut", new EmulatorFaultOptions { DisconnectProbability = 1, DisconnectAfterTokens = 3 });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat("llama-8b", stream: true, maxTokens: 20)) };
        using var response = await f.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = await ReadEventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("[DONE]", events);
        var error = JsonDocument.Parse(events[^1]).RootElement.GetProperty("error");
        Assert.Equal(OpenAIError.Upstream, error.GetProperty("type").GetString());
        Assert.StartsWith("upstream_", error.GetProperty("code").GetString());
        var logged = await WaitForLogAsync(f, Header(response, "x-flare-request-id")!);
        Assert.StartsWith("upstream_", logged.ErrorType);
    }

    [Fact]
    public async Task UpstreamKey_ReplacesTheClientsKey_AndIsNeverReturned()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "keyed", apiKey: "sk-upstream-secret-abcdef");

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("sk-upstream-secret", text);
        Assert.DoesNotContain(response.Headers.SelectMany(h => h.Value), v => v.Contains("sk-upstream-secret"));
    }

    [Fact]
    public async Task UnknownV1Path_404OpenAIError() 
    {
        await using var f = await GatewayFixture.StartAsync();

        await AssertOpenAIError(await f.Client.GetAsync("/v1/embeddings", Ct), 404);
    }

    [Fact]
    public async Task Metrics_CountRequestsTokensAndLatency()
    {
        await using var f = await GatewayFixture.StartAsync();
        await f.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("llama-8b"), Ct);

        var metrics = await f.Client.GetStringAsync("/metrics", Ct);

        Assert.Contains("flare_requests_total{deployment=\"llama-8b@emu\",policy=\"least-outstanding\",status=\"200\"} 1", metrics);
        Assert.Contains("flare_tokens_total{deployment=\"llama-8b@emu\",direction=\"output\"} 8", metrics);
        Assert.Contains("flare_e2e_seconds_count{deployment=\"llama-8b@emu\"} 1", metrics);
        Assert.Contains("flare_in_flight{deployment=\"llama-8b@emu\"} 0", metrics);
        Assert.Contains("flare_request_log_dropped_total 0\n", metrics);
    }

    private const string LeastOutstanding = Flare.Routing.Routing.LeastOutstandingPolicy.PolicyName;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private static async Task<JsonElement> AssertOpenAIError(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        return error;
    }

    private static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line[6..]);
            }
        }

        return events;
    }

    /// <summary>The request log is written off the request path, in batches: wait for the row.</summary>
    private static async Task<RequestLogEntity> WaitForLogAsync(GatewayFixture f, string requestId)
    {
        var factory = f.Flare.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>();
        RequestLogEntity? row = null;
        await WaitUntilAsync(async () =>
        {
            await using var db = await factory.CreateDbContextAsync(Ct);
            row = await db.RequestLog.AsNoTracking().SingleOrDefaultAsync(r => r.RequestId == requestId, Ct);
            return row is not null;
        });
        return row!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Condition not met within 10 s.");
            await Task.Delay(25, Ct);
        }
    }
}
