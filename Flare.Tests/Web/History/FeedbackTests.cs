using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Flare.Web.History;
using Microsoft.Extensions.DependencyInjection;
using static Flare.Tests.Web.History.HistoryTestSupport;

namespace Flare.Tests.Web.History;

/// <summary><c>POST /v1/feedback</c> over real HTTP on real Kestrel: labelled rows reach the estimator; errors in OpenAI's shape.</summary>
[Collection(nameof(HostCollection))]
public sealed class FeedbackTests : IAsyncLifetime
{
    private const string Key = "flare-test-feedback-key";
    private readonly TempDirectory _dir = new();
    private FlareServer _flare = null!;
    private HttpClient _client = null!;

    private RecentPrompts Recent => _flare.Services.GetRequiredService<RecentPrompts>();

    private HistoryIndexService Index => _flare.Services.GetRequiredService<HistoryIndexService>();

    public async ValueTask InitializeAsync()
    {
        _flare = new FlareServer(_dir.Path, demo: false, $"--Flare:BootstrapApiKey={Key}");
        await _flare.StartAsync();
        _client = _flare.CreateClient();
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        await WaitUntilAsync(() => Index.IsReady, TimeSpan.FromSeconds(30), () => "the estimator's start-up rebuild did not finish");
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _flare.DisposeAsync();
        _dir.Dispose();
    }

    private Task<HttpResponseMessage> PostAsync(string json, HttpClient? client = null) =>
        (client ?? _client).PostAsync("v1/feedback", new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var error = body.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        return error;
    }

    [Fact]
    public async Task Feedback_OnAServedRequest_ChangesLaterEstimatesForThatKindOfPrompt()
    {
        // The history says the model fails at unit conversions; live feedback says it now gets them right.
        var model = (await _flare.Services.GetRequiredService<RegistryStore>().CreateModelAsync(Samples.Llama8B with { Name = "converter" })).Value!;
        using var upload = await UploadRawAsync(_client, Jsonl(
            ("Convert 5 miles to kilometres.", [("converter", 0)]),
            ("Convert 100 Fahrenheit to Celsius.", [("converter", 0)]),
            ("Convert 3 pounds to kilograms.", [("converter", 0)]),
            ("Write a short poem about autumn leaves.", [("converter", 1)])), "format=jsonl");
        await WaitForImportAsync(_client, (await upload.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id);
        const string prompt = "Convert 12 inches to centimetres.";
        var before = Index.Current.Estimate(prompt).For(model.Name)!.Quality;
        Assert.True(before < 0.2, $"before feedback: {before}");

        for (var i = 0; i < 3; i++)
        {
            Recent.Remember($"req_test_{i}", new RecentPrompt(prompt, model.Name, 9, 0.00002, DateTime.UtcNow));
            using var response = await PostAsync($$"""{"request_id": "req_test_{{i}}", "score": 1}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(("feedback", $"req_test_{i}", "converter", 1.0, 9, true),
                (body.GetProperty("object").GetString(), body.GetProperty("request_id").GetString(), body.GetProperty("model").GetString(),
                 body.GetProperty("score").GetDouble(), body.GetProperty("output_tokens").GetInt32(), body.GetProperty("used_by_estimator").GetBoolean()));
        }

        // Seen as soon as the answer came back: the same prompt, and prompts like it.
        var after = Index.Current.Estimate(prompt).For(model.Name)!;
        Assert.True(after.Quality > 0.9, $"after feedback: {after.Quality}");
        Assert.Equal(9, after.OutputTokens!.Value, 3);
        var similar = Index.Current.Estimate("Convert 12 inches to metres.").For(model.Name)!.Quality;
        Assert.True(similar > before + 0.3, $"a similar prompt: {similar} (before {before})");

        var feedback = Assert.Single(await _flare.Services.GetRequiredService<HistoryStore>().ListDatasetsAsync(), d => d.IsFeedback);
        Assert.Equal(3, feedback.RowsImported);
    }

    [Fact]
    public async Task Feedback_WithoutOrWithAWrongKey_Is401InOpenAIShape()
    {
        Recent.Remember("req_401", new RecentPrompt("p", "m", null, null, DateTime.UtcNow));
        using var anonymous = _flare.CreateClient();
        using var wrong = _flare.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");

        foreach (var client in new[] { anonymous, wrong })
        {
            using var response = await PostAsync("""{"request_id": "req_401", "score": 1}""", client);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = await ErrorAsync(response);
            Assert.Equal(("authentication_error", "invalid_api_key"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        }

        Assert.Empty(await _flare.Services.GetRequiredService<HistoryStore>().ListDatasetsAsync());
    }

    [Fact]
    public async Task Feedback_UnknownRequestId_Is404SayingWhy()
    {
        using var response = await PostAsync("""{"request_id": "req_never_served", "score": 0.5}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal(("not_found_error", "unknown_request_id", "request_id"),
            (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Contains("req_never_served", error.GetProperty("message").GetString());
        Assert.Contains("does not remember", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"request_id": "req_400", "score": 1.5}""", "score")]
    [InlineData("""{"request_id": "req_400", "score": -0.1}""", "score")]
    [InlineData("""{"request_id": "req_400", "score": "high"}""", "score")]
    [InlineData("""{"request_id": "req_400"}""", "score")]
    [InlineData("""{"score": 1}""", "request_id")]
    [InlineData("""{"request_id": "req_400", "score": 1, "output_tokens": -3}""", "output_tokens")]
    [InlineData("""{"request_id": "req_400", "score": 1, "output_tokens": 2.5}""", "output_tokens")]
    [InlineData("""not json""", null)]
    [InlineData("""[1, 2]""", null)]
    public async Task Feedback_BadBody_Is400InOpenAIShape_NamingTheField(string body, string? param)
    {
        Recent.Remember("req_400", new RecentPrompt("p", "m", null, null, DateTime.UtcNow));

        using var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString());
        Assert.Empty(await _flare.Services.GetRequiredService<HistoryStore>().ListDatasetsAsync());
    }
}
