using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Emulator.Hosting;
using Microsoft.ML.Tokenizers;

namespace Flare.Tests.Emulator.Hosting;

[Collection(nameof(HostCollection))]
public sealed class EmulatorEndpointsTests
{
    private const string Backend = "llama-3-8b@h100x1";
    private const string Prompt = "Explain continuous batching in two sentences, please.";
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static EmulatorBackendOptions Fast(EmulatorFaultOptions? faults = null, int seed = 0) => new()
    {
        Profile = "llama-3-8b@h100x1",
        TimeScale = 20,
        Seed = seed,
        Faults = faults ?? EmulatorFaultOptions.None,
    };

    // OpenAI's gpt-4o counting: 3 per message + role + content, plus 3 priming the reply.
    private static int ExpectedChatPromptTokens(string content) => 3 + 3 + O200k.CountTokens("user") + O200k.CountTokens(content);

    [Fact]
    public async Task ChatCompletions_StreamWithIgnoreEos_SendsExactlyMaxTokensChunksAndUsage()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat(Prompt, 37, stream: true));
        var result = await EmulatorClient.ReadStreamAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("llama-3-8b@h100x1", response.Headers.GetValues(EmulatorEndpoints.ProfileHeader).Single());
        Assert.Equal(37, result.Content.Count);
        Assert.True(result.Done);
        var usage = result.Usage!.Value;
        Assert.Equal(ExpectedChatPromptTokens(Prompt), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(37, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(ExpectedChatPromptTokens(Prompt) + 37, usage.GetProperty("total_tokens").GetInt32());
        var last = result.Chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal("length", result.Chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(result.Chunks, c => Assert.Equal("any-model-name", c.GetProperty("model").GetString()));
        Assert.All(result.Chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal(37, O200k.CountTokens(string.Concat(result.Content)));
    }

    [Fact]
    public async Task ChatCompletions_StreamWithoutIncludeUsage_SendsNoUsageChunk()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat(Prompt, 5, stream: true, includeUsage: false));
        var result = await EmulatorClient.ReadStreamAsync(response);

        Assert.Equal(5, result.Content.Count);
        Assert.True(result.Done);
        Assert.Null(result.Usage);
        Assert.All(result.Chunks, c => Assert.Equal(1, c.GetProperty("choices").GetArrayLength()));
    }

    [Fact]
    public async Task ChatCompletions_NonStreamingWithIgnoreEos_ReturnsMaxTokensAndUsage()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat(Prompt, 64, stream: false));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(64, O200k.CountTokens(message.GetProperty("content").GetString()!));
        Assert.Equal(ExpectedChatPromptTokens(Prompt), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(64, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Completions_WithIgnoreEos_ReturnsMaxTokensAndPromptTokenCount(bool stream)
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));
        var body = new { model = "m", prompt = Prompt, max_tokens = 23, ignore_eos = true, stream, stream_options = new { include_usage = true } };

        using var response = await emulator.PostAsync($"/{Backend}/v1/completions", body);

        JsonElement usage;
        if (stream)
        {
            var result = await EmulatorClient.ReadStreamAsync(response);
            Assert.Equal(23, result.Content.Count);
            Assert.True(result.Done);
            Assert.All(result.Chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
            usage = result.Usage!.Value;
        }
        else
        {
            var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.Equal(23, O200k.CountTokens(json.GetProperty("choices")[0].GetProperty("text").GetString()!));
            usage = json.GetProperty("usage");
        }

        Assert.Equal(O200k.CountTokens(Prompt), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(23, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_MinTokensEqualToMaxTokens_ReturnsMaxTokens()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 17, min_tokens = 17 });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(17, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_OutputTokensHeader_FixesTheOutputLength()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 500 }, outputTokens: 42);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(42, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("stop", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Completions_DrawnLengths_AreRepeatableWithTheSameSeedAndCappedByMaxTokens()
    {
        async Task<List<int>> LengthsAsync()
        {
            await using var emulator = await EmulatorClient.StartAsync((Backend, Fast(seed: 7)));
            var lengths = new List<int>();
            for (var i = 0; i < 8; i++)
            {
                using var response = await emulator.PostAsync($"/{Backend}/v1/completions", new { model = "m", prompt = "x", max_tokens = 150 });
                var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
                lengths.Add(json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            }

            return lengths;
        }

        var first = await LengthsAsync();
        var second = await LengthsAsync();

        Assert.Equal(first, second);
        Assert.All(first, n => Assert.InRange(n, 1, 150));
        Assert.True(first.Distinct().Count() > 1, "lengths are drawn, not constant");
    }

    [Fact]
    public async Task Models_ListsServedNamesOwnedByTheEmulator()
    {
        await using var emulator = await EmulatorClient.StartAsync(("qwen", Fast() with { ServedModelNames = ["qwen2.5-7b-instruct"] }));

        using var response = await emulator.Http.GetAsync("/qwen/v1/models", TestContext.Current.CancellationToken);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        var model = Assert.Single(json.GetProperty("data").EnumerateArray());
        Assert.Equal("qwen2.5-7b-instruct", model.GetProperty("id").GetString());
        Assert.Equal("flare-emulator", model.GetProperty("owned_by").GetString());
        Assert.Equal("llama-3-8b@h100x1", response.Headers.GetValues(EmulatorEndpoints.ProfileHeader).Single());
    }

    [Fact]
    public async Task Completions_UnknownBackend_Returns404InOpenAIShape()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var response = await emulator.PostAsync("/nope/v1/chat/completions", EmulatorClient.Chat("hi", 3, stream: false));
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("error");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("backend_not_found", error.GetProperty("code").GetString());
        Assert.Contains("nope", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_UnknownBackendWithDefault_CreatesTheBackend()
    {
        await using var emulator = await EmulatorClient.StartAsync();
        emulator.Fleet.DefaultBackend = Fast();

        using var response = await emulator.PostAsync("/qwen2.5-7b@a100/v1/chat/completions", EmulatorClient.Chat("hi", 3, stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(emulator.Fleet.TryGet("qwen2.5-7b@a100", out var created));
        Assert.Equal("llama-3-8b@h100x1", created.Profile.Name);
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("""{"model":"m"}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100000}""", "max_tokens")]
    public async Task ChatCompletions_BadBody_Returns400InOpenAIShape(string body, string? param)
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast()));

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await emulator.Http.PostAsync($"/{Backend}/v1/chat/completions", content, TestContext.Current.CancellationToken);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Fleet_RemovedBackend_Returns404()
    {
        await using var emulator = await EmulatorClient.StartAsync(("gone", Fast()));

        Assert.True(emulator.Fleet.Remove("gone"));
        using var response = await emulator.PostAsync("/gone/v1/completions", new { model = "m", prompt = "x", max_tokens = 2 });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ChatCompletions_256ConcurrentStreams_AllCompleteWithExactTokenCounts()
    {
        await using var emulator = await EmulatorClient.StartAsync((Backend, Fast() with { TimeScale = 10 }));
        var watch = Stopwatch.StartNew();

        var results = await Task.WhenAll(Enumerable.Range(0, 256).Select(async i =>
        {
            using var response = await emulator.PostAsync($"/{Backend}/v1/chat/completions", EmulatorClient.Chat($"request {i}", 64, stream: true));
            return await EmulatorClient.ReadStreamAsync(response);
        }));

        Assert.All(results, r =>
        {
            Assert.Equal(64, r.Content.Count);
            Assert.True(r.Done);
            Assert.Equal(64, r.Usage!.Value.GetProperty("completion_tokens").GetInt32());
        });
        // 256 × 64 tokens in one batch: the simulated run takes ~1.9 s, 0.19 s at 10×; leave room for a slow machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }
}
