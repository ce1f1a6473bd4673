using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flare.Data;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Tests.Routing.Profiles;
using Flare.Tests.Support;
using Flare.Web.History;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Flare.Tests.Web.History.HistoryTestSupport;

namespace Flare.Tests.Web.History;

/// <summary><c>/api/history</c> on the real host: uploads imported in the background, progress, issues, mapping, deletion, errors.</summary>
[Collection(nameof(HostCollection))]
public sealed class HistoryApiTests : IAsyncLifetime
{
    private readonly FlareWebFactory _factory = new();
    private HttpClient _client = null!;

    private HistoryIndexService Index => _factory.Services.GetRequiredService<HistoryIndexService>();

    private RegistryStore Registry => _factory.Services.GetRequiredService<RegistryStore>();

    public async ValueTask InitializeAsync()
    {
        _client = _factory.CreateClient();
        await WaitUntilAsync(() => Index.IsReady, TimeSpan.FromSeconds(30), () => "the estimator's start-up rebuild did not finish");
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task UploadRawBody_202WithLocation_ImportRunsInTheBackground_IssuesListedByLine_EstimatorHasTheMappedRows()
    {
        await Registry.CreateModelAsync(Samples.Llama8B with { Name = "Model-A" });
        const string json = """
            [
              {"question": "What is the capital of France?", "scores": {"model-a": 1, "model-b": 0}},
              {"question": "Broken", "scores": {"model-a": 3}},
              {"question": "Name a prime number.", "scores": {"model-a": 0.5, "model-b": 1}},
              {"scores": {"model-a": 1}}
            ]
            """;

        using var response = await UploadRawAsync(_client, Encoding.UTF8.GetBytes(json), "format=llmrouter&name=capitals", "application/json");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!;
        Assert.Equal(HistoryImportStart.New, result.Start);
        Assert.Equal($"/api/history/datasets/{result.Dataset.Id}", response.Headers.Location!.OriginalString);
        var detail = await WaitForImportAsync(_client, result.Dataset.Id);
        Assert.Equal(HistoryImportStatus.Completed, detail.Dataset.Status);
        Assert.Equal(("capitals", "llmrouter", 4, 2, 2), (detail.Dataset.Name, detail.Dataset.Format, detail.Dataset.RowsRead, detail.Dataset.RowsImported, detail.Dataset.RowsRejected));
        Assert.Equal(json.Length, detail.Dataset.BytesRead);
        Assert.Equal([3, 5], detail.Issues.Where(i => i.Line is not null).Select(i => i.Line!.Value).Distinct());
        Assert.Contains(detail.Issues, i => i.Line is null && i.Message.Contains("'model-b' matches no registry model"));
        Assert.Equal([("model-a", "Model-A"), ("model-b", null)], detail.Models.Select(m => (m.DatasetModel, m.RegistryModelName)));

        var list = (await _client.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", Json))!;
        Assert.Equal(1.0, Assert.Single(list).Progress);

        // Only the mapped model's rows, under the registry's name.
        var estimator = Index.Current;
        Assert.Equal(2, estimator.Count);
        Assert.Equal(["Model-A"], estimator.Models);
        Assert.Equal(1.0, estimator.Estimate("What is the capital of France?").For("Model-A")!.Quality, 3);
    }

    [Fact]
    public async Task UploadTheSameFileTwice_SecondIs200WithTheExistingDataset_NothingAdded()
    {
        var file = Jsonl(("p1", [("m", 1)]), ("p2", [("m", 0)]));
        using var first = await UploadRawAsync(_client, file, "format=jsonl&name=one");
        var id = (await first.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id;
        await WaitForImportAsync(_client, id);

        using var second = await UploadRawAsync(_client, file, "format=jsonl&name=two");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var again = (await second.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!;
        Assert.Equal((HistoryImportStart.Existing, id, "one", 2), (again.Start, again.Dataset.Id, again.Dataset.Name, again.Dataset.RowsImported));
        Assert.Single((await _client.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", Json))!);
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.HistoryPrompts.CountAsync());

        // The duplicate's upload is deleted at once; the first one's by the worker just after its import ended.
        var uploads = _factory.Services.GetRequiredService<HistoryImports>().UploadDirectory;
        await WaitUntilAsync(() => Directory.GetFiles(uploads).Length == 0, TimeSpan.FromSeconds(10), () => string.Join(", ", Directory.GetFiles(uploads)));
    }

    [Fact]
    public async Task UploadMultipart_WithAPriceTable_CostsTheRows()
    {
        var file = Jsonl(("Translate 'cat' to French.", [("cheap", 1), ("dear", 1)]));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(file), "file", "history.jsonl" },
            { new StringContent("jsonl"), "format" },
            { new StringContent("""{"cheap": {"input_price": 1, "output_price": 2}}"""), "prices" },
            { new StringContent("100"), "assumedOutputTokens" },
        };

        using var response = await _client.PostAsync("api/history/datasets", form);

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id;
        var detail = await WaitForImportAsync(_client, id);
        Assert.Equal("history.jsonl", detail.Dataset.Name);
        Assert.Contains(detail.Issues, i => i.Message.Contains("no price for 'dear'"));
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync();
        var prompt = await db.HistoryPrompts.Include(p => p.Outcomes).SingleAsync();
        Assert.Equal((prompt.InputTokens * 1 + 100 * 2) / 1e6, prompt.Outcomes.Single(o => o.DatasetModel == "cheap").CostUsd!.Value, 12);
        Assert.Null(prompt.Outcomes.Single(o => o.DatasetModel == "dear").CostUsd);
    }

    [Theory]
    [InlineData("format=xml", "{}", "format")]
    [InlineData("name=no-format", "{}", "format")]
    [InlineData("format=jsonl", "", "empty")]
    [InlineData("format=jsonl&assumedOutputTokens=-4", "{}", "assumedOutputTokens")]
    public async Task UploadRaw_BadFormatOrEmptyBody_Is400ProblemDetails(string query, string body, string expected)
    {
        using var response = await UploadRawAsync(_client, Encoding.UTF8.GetBytes(body), query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
        Assert.Empty((await _client.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", Json))!);
    }

    [Fact]
    public async Task UploadMultipart_NoFileEmptyFileOrBadPrices_Are400ProblemDetails_AndLeaveNoFiles()
    {
        async Task<string> PostAsync(params (HttpContent Content, string Name, string? FileName)[] parts)
        {
            using var form = new MultipartFormDataContent();
            foreach (var (content, name, fileName) in parts)
            {
                if (fileName is null)
                {
                    form.Add(content, name);
                }
                else
                {
                    form.Add(content, name, fileName);
                }
            }

            using var response = await _client.PostAsync("api/history/datasets", form);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return text;
        }

        Assert.Contains("form field named", await PostAsync((new StringContent("jsonl"), "format", null)));
        Assert.Contains("empty", await PostAsync((new ByteArrayContent([]), "file", "h.jsonl"), (new StringContent("jsonl"), "format", null)));
        Assert.Contains("prices", await PostAsync((new ByteArrayContent(Jsonl(("p", [("m", 1)]))), "file", "h.jsonl"), (new StringContent("jsonl"), "format", null), (new StringContent("{not json"), "prices", null)));
        Assert.Empty((await _client.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", Json))!);
        Assert.Empty(Directory.GetFiles(_factory.Services.GetRequiredService<HistoryImports>().UploadDirectory));
    }

    [Fact]
    public async Task UnknownDataset_Is404ProblemDetails()
    {
        foreach (var response in new[]
        {
            await _client.GetAsync("api/history/datasets/404"),
            await _client.GetAsync("api/history/datasets/404/models"),
            await _client.PutAsJsonAsync("api/history/datasets/404/models", Array.Empty<HistoryModelMapInput>()),
            await _client.DeleteAsync("api/history/datasets/404"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("404", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task PutModels_MappingAModel_AddsItsRowsToTheEstimator_UnmappingRemovesThem_UnknownNamesAre400()
    {
        var b = (await Registry.CreateModelAsync(Samples.Llama70B with { Name = "Registry-B" })).Value!;
        using var upload = await UploadRawAsync(_client, Jsonl(("Explain recursion.", [("a", 0.25), ("b", 0.75)]), ("Write a limerick.", [("b", 1)])), "format=jsonl");
        var id = (await upload.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id;
        await WaitForImportAsync(_client, id);
        Assert.Equal(0, Index.Current.Count); // nothing mapped yet

        var revision = Index.Revision;
        using var map = await _client.PutAsJsonAsync($"api/history/datasets/{id}/models", new[] { new HistoryModelMapInput("b", b.Id) });

        Assert.Equal(HttpStatusCode.OK, map.StatusCode);
        var models = (await map.Content.ReadFromJsonAsync<List<HistoryModelMapView>>(Json))!;
        Assert.Equal([("a", null), ("b", "Registry-B")], models.Select(m => (m.DatasetModel, m.RegistryModelName)));
        await WaitForRebuildAsync(Index, revision);
        Assert.Equal(["Registry-B"], Index.Current.Models);
        Assert.Equal(2, Index.Current.Count);
        Assert.Equal(0.75, Index.Current.Estimate("Explain recursion.").For("Registry-B")!.Quality, 3);

        revision = Index.Revision;
        using var unmap = await _client.PutAsJsonAsync($"api/history/datasets/{id}/models", new[] { new HistoryModelMapInput("b", null) });
        Assert.Equal(HttpStatusCode.OK, unmap.StatusCode);
        await WaitForRebuildAsync(Index, revision);
        Assert.Empty(Index.Current.Models);

        using var invalid = await _client.PutAsJsonAsync($"api/history/datasets/{id}/models", new[] { new HistoryModelMapInput("zzz", b.Id) });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("zzz", await invalid.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Delete_Dataset_204_ItsRowsLeaveTheEstimator()
    {
        var model = (await Registry.CreateModelAsync(Samples.Llama8B with { Name = "m" })).Value!;
        using var upload = await UploadRawAsync(_client, Jsonl(("p1", [("m", 1)]), ("p2", [("m", 0)])), "format=jsonl");
        var id = (await upload.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id;
        await WaitForImportAsync(_client, id);
        Assert.Equal(2, Index.Current.Count);
        var revision = Index.Revision;

        using var deleted = await _client.DeleteAsync($"api/history/datasets/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"api/history/datasets/{id}")).StatusCode);
        await WaitForRebuildAsync(Index, revision);
        Assert.Equal(0, Index.Current.Count);
        Assert.DoesNotContain(model.Name, Index.Current.Models);
    }

    [Fact]
    public async Task OpenApi_ListsTheHistoryEndpoints()
    {
        var doc = await _client.GetStringAsync("openapi/v1.json");

        Assert.Contains("/api/history/datasets", doc);
        Assert.Contains("/api/history/datasets/{id}/models", doc);
        Assert.Contains("/api/history/estimator", doc);
    }

    [Fact]
    public async Task UploadDcrouterTrain_AllPromptsImported_EstimatorHoldsThemWithARefittedEmbedder()
    {
        var path = SharedData.RequireFile("LLMRouter", "data", "dcrouter_preprocessed", "train.json");
        var test = SharedData.RequireFile("LLMRouter", "data", "dcrouter_preprocessed", "test.json");
        string[] names = ["llama3-chatqa-1.5-8b", "qwen2.5-7b-instruct", "llama3-chatqa-1.5-70b", "llama-3.1-nemotron-51b-instruct", "mistral-7b-instruct-v0.3",
            "gemma-2-9b-it", "llama-3.1-8b-instruct", "codegemma-7b", "llama-3.3-nemotron-super-49b-v1"];
        foreach (var name in names)
        {
            Assert.True((await Registry.CreateModelAsync(Samples.Llama8B with { Name = name })).IsOk);
        }

        var revision = Index.Revision;
        await using (var file = File.OpenRead(path))
        {
            using var content = new StreamContent(file);
            using var response = await _client.PostAsync("api/history/datasets?format=llmrouter&name=dcrouter", content);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<HistoryUploadResult>(Json))!.Dataset.Id;
            var detail = await WaitForImportAsync(_client, id, TimeSpan.FromMinutes(2));
            Assert.Equal((HistoryImportStatus.Completed, 5608, 0, 0), (detail.Dataset.Status, detail.Dataset.RowsImported, detail.Dataset.RowsRejected, detail.Dataset.UnmappedModels));
        }

        // Every row reached the live estimator as its batch was committed; the import then refits the embedder's idf.
        await WaitForRebuildAsync(Index, revision);
        var status = (await _client.GetFromJsonAsync<HistoryApi.EstimatorStatus>("api/history/estimator", Json))!;
        Assert.Equal(5608, status.Prompts);
        Assert.Equal(names.Order(), status.Models.Order());
        Assert.Contains("idf fitted on 5,608 prompts", status.Embedder);
        using var queries = JsonDocument.Parse(await File.ReadAllTextAsync(test));
        var question = queries.RootElement[0].GetProperty("question").GetString()!;
        var estimate = Index.Current.Estimate(question);
        Assert.Equal(9, estimate.Models.Count);
        Assert.True(estimate.Neighbours > 0);
    }
}
