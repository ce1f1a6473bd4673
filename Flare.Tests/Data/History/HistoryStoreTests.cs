using System.Security.Cryptography;
using System.Text;
using Flare.Data.History;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Tests.Routing.Profiles;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Data.History;

/// <summary>Imports into a real database (the suite's provider): batches, line-numbered issues, dedupe by hash, interruption and resume, mapping, feedback.</summary>
public sealed class HistoryStoreTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    private HistoryStore Store => _db.Services.GetRequiredService<HistoryStore>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    internal static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    internal static async Task<HistoryDatasetView> ImportAsync(
        HistoryStore store, byte[] bytes, HistoryImportOptions options, string name = "test", Func<CancellationToken, Task>? afterBatch = null, CancellationToken ct = default)
    {
        var ticket = await store.BeginImportAsync(name, options.Format, Sha(bytes), bytes.Length, ct);
        Assert.True(ticket.IsOk, ticket.Message + " " + ticket.Errors);
        return ticket.Value!.MustRun
            ? await store.ImportAsync(ticket.Value.Dataset.Id, new MemoryStream(bytes), options, afterBatch, ct)
            : ticket.Value.Dataset;
    }

    private async Task<int> CountAsync(Func<Flare.Data.FlareDbContext, Task<int>> count)
    {
        await using var db = await _db.CreateContextAsync();
        return await count(db);
    }

    [Fact]
    public async Task ImportLlmRouter_DcrouterTrain_EveryPromptAndModelStored_MappedByNameIgnoringCase_CostedFromThePriceTable()
    {
        var path = SharedData.RequireFile("LLMRouter", "data", "dcrouter_preprocessed", "train.json");
        var pricesPath = SharedData.RequireFile("LLMRouter", "data", "example_data", "llm_candidates", "default_llm.json");
        Assert.True(PriceTable.TryParse(await File.ReadAllTextAsync(pricesPath), out var prices, out _));
        var qwen = (await _db.Store.CreateModelAsync(Samples.Llama8B with { Name = "Qwen2.5-7B-Instruct" })).Value!;
        await _db.Store.CreateModelAsync(Samples.Llama70B with { Name = "gemma-2-9b-it" });
        var bytes = await File.ReadAllBytesAsync(path);
        var batches = 0;

        var done = await ImportAsync(Store, bytes, new HistoryImportOptions { Format = HistoryFormat.LlmRouter, Prices = prices, BatchSize = 500 }, "dcrouter train",
            _ => { batches++; return Task.CompletedTask; });

        Assert.Equal(HistoryImportStatus.Completed, done.Status);
        Assert.Equal((5608, 5608, 0), (done.RowsRead, done.RowsImported, done.RowsRejected));
        Assert.Equal(bytes.Length, done.BytesRead);
        Assert.Equal(1.0, done.Progress);
        Assert.Equal(12, batches); // ⌈5608 / 500⌉ commits
        Assert.Equal((9, 7), (done.Models, done.UnmappedModels));
        Assert.Equal(5608, await CountAsync(db => db.HistoryPrompts.CountAsync()));
        Assert.Equal(5608 * 9, await CountAsync(db => db.HistoryOutcomes.CountAsync()));

        var detail = (await Store.GetDatasetAsync(done.Id))!;
        var qwenMap = Assert.Single(detail.Models, m => m.DatasetModel == "qwen2.5-7b-instruct");
        Assert.Equal((qwen.Id, "Qwen2.5-7B-Instruct", 5608), (qwenMap.RegistryModelId, qwenMap.RegistryModelName, qwenMap.Outcomes));
        Assert.Equal(7, detail.Models.Count(m => !m.IsMapped));
        Assert.Equal(7, detail.Issues.Count(i => i.Line is null && i.Message.Contains("matches no registry model")));
        Assert.Contains(detail.Issues, i => i.Message.Contains("50,472 cost(s)") && i.Message.Contains("256 output tokens"));

        // Costs are the price table's: (input tokens · input price + 256 assumed output tokens · output price) / 10⁶.
        await using var ctx = await _db.CreateContextAsync();
        var first = await ctx.HistoryPrompts.Include(p => p.Outcomes).OrderBy(p => p.Id).FirstAsync();
        Assert.Equal(O200kTokenCounter.Shared.Count(first.Prompt), first.InputTokens);
        var gemma = Assert.Single(first.Outcomes, o => o.DatasetModel == "gemma-2-9b-it");
        Assert.Equal((first.InputTokens * 0.1 + 256 * 0.1) / 1e6, gemma.CostUsd!.Value, 12);
        Assert.Equal(HistoryStore.PromptHash(first.Prompt), first.PromptSha256);
    }

    [Fact]
    public async Task Import_MalformedRows_ReportedLineByLine_GoodRowsKept_EachBatchCommittedWithItsCounters()
    {
        var jsonl = string.Join('\n',
            """{"id": "a", "prompt": "What is 2+2?", "scores": {"m1": 1, "m2": 0}}""",
            """{"prompt": "no scores here"}""",
            """this is not json""",
            "",
            """{"prompt": "Name a prime.", "scores": {"m1": 0.5, "m2": 7}}""",
            """{"prompt": "Capital of France?", "scores": {"m1": 1}}""",
            """{"prompt": "x", "scores": {"m1": "high"}}""",
            """{"prompt": "Spell cat.", "scores": {"m2": 1}, "output_tokens": {"m2": 3}}""");
        var bytes = Encoding.UTF8.GetBytes(jsonl);
        var afterEachBatch = new List<(int Read, int Imported, int Prompts)>();

        var done = await ImportAsync(Store, bytes, new HistoryImportOptions { Format = HistoryFormat.Jsonl, BatchSize = 2 }, afterBatch: async _ =>
        {
            await using var db = await _db.CreateContextAsync();
            var row = await db.HistoryDatasets.SingleAsync();
            afterEachBatch.Add((row.RowsRead, row.RowsImported, await db.HistoryPrompts.CountAsync()));
        });

        Assert.Equal(HistoryImportStatus.Completed, done.Status);
        Assert.Equal((7, 4, 3), (done.RowsRead, done.RowsImported, done.RowsRejected));
        var detail = (await Store.GetDatasetAsync(done.Id))!;
        Assert.Equal([2, 3, 5, 7], detail.Issues.Where(i => i.Line is not null).Select(i => i.Line!.Value).Distinct());
        Assert.Contains(detail.Issues, i => i.Line == 2 && i.Message.Contains("scores"));
        Assert.Contains(detail.Issues, i => i.Line == 3 && i.Message.Contains("JSON"));
        Assert.Contains(detail.Issues, i => i.Line == 5 && i.Message.Contains("outside [0, 1]")); // m2's 7 left out, m1 kept
        await using (var db = await _db.CreateContextAsync())
        {
            Assert.Equal(["What is 2+2?", "Name a prime.", "Capital of France?", "Spell cat."], await db.HistoryPrompts.OrderBy(p => p.Id).Select(p => p.Prompt).ToListAsync());
            Assert.Equal("a", (await db.HistoryPrompts.OrderBy(p => p.Id).FirstAsync()).ExternalId);
            Assert.Equal(5, await db.HistoryOutcomes.CountAsync());
            Assert.Equal(3, (await db.HistoryOutcomes.SingleAsync(o => o.DatasetModel == "m2" && o.OutputTokens != null)).OutputTokens);
        }

        // Records 2 at a time; after every commit the stored prompts are exactly the rows the counters say.
        Assert.Equal([(2, 1, 1), (4, 2, 2), (6, 3, 3), (7, 4, 4)], afterEachBatch);
    }

    [Fact]
    public async Task Reimport_SameBytes_ReturnsTheExistingDataset_AndAddsNothing()
    {
        var bytes = Encoding.UTF8.GetBytes("""[{"question": "q1", "scores": {"m": 1}}, {"question": "q2", "scores": {"m": 0}}]""");
        var options = new HistoryImportOptions { Format = HistoryFormat.LlmRouter };
        var first = await ImportAsync(Store, bytes, options, "first");

        var again = await Store.BeginImportAsync("second", HistoryFormat.LlmRouter, Sha(bytes), bytes.Length);

        Assert.Equal(HistoryImportStart.Existing, again.Value!.Start);
        Assert.False(again.Value.MustRun);
        Assert.Equal(first.Id, again.Value.Dataset.Id);
        Assert.Equal("first", again.Value.Dataset.Name);
        Assert.Single(await Store.ListDatasetsAsync());
        Assert.Equal(2, await CountAsync(db => db.HistoryPrompts.CountAsync()));
        Assert.Equal(2, await CountAsync(db => db.HistoryOutcomes.CountAsync()));

        // Other bytes are another dataset.
        var other = Encoding.UTF8.GetBytes("""[{"question": "q3", "scores": {"m": 1}}]""");
        Assert.Equal(HistoryImportStart.New, (await Store.BeginImportAsync("third", HistoryFormat.LlmRouter, Sha(other), other.Length)).Value!.Start);
    }

    [Fact]
    public async Task Import_CancelledAfterOneBatch_IsInterruptedWithTheBatchKept_AndTheSameFileResumesWithoutDuplicates()
    {
        var lines = Enumerable.Range(1, 10).Select(i => "{\"prompt\": \"question number " + i + "\", \"scores\": {\"a\": " + (i % 2) + ", \"b\": 0.5}}");
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        var options = new HistoryImportOptions { Format = HistoryFormat.Jsonl, BatchSize = 3 };
        using var stop = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ImportAsync(Store, bytes, options, afterBatch: _ => stop.CancelAsync(), ct: stop.Token));

        var interrupted = Assert.Single(await Store.ListDatasetsAsync());
        Assert.Equal(HistoryImportStatus.Interrupted, interrupted.Status);
        Assert.Equal((3, 3), (interrupted.RowsRead, interrupted.RowsImported));
        Assert.Contains("Upload the same file again", interrupted.Failure);
        Assert.Equal(3, await CountAsync(db => db.HistoryPrompts.CountAsync()));

        var resumed = await Store.BeginImportAsync("again", HistoryFormat.Jsonl, Sha(bytes), bytes.Length);
        Assert.Equal(HistoryImportStart.Resumed, resumed.Value!.Start);
        var done = await Store.ImportAsync(resumed.Value.Dataset.Id, new MemoryStream(bytes), options);

        Assert.Equal(HistoryImportStatus.Completed, done.Status);
        Assert.Equal(interrupted.Id, done.Id);
        Assert.Equal((10, 10, 0), (done.RowsRead, done.RowsImported, done.RowsRejected));
        Assert.Equal(10, await CountAsync(db => db.HistoryPrompts.CountAsync()));
        Assert.Equal(20, await CountAsync(db => db.HistoryOutcomes.CountAsync()));
    }

    [Fact]
    public async Task InterruptAbandonedImports_MarksImportsLeftRunning()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"prompt": "p", "scores": {"m": 1}}""");
        var running = (await Store.BeginImportAsync("cut off", HistoryFormat.Jsonl, Sha(bytes), bytes.Length)).Value!.Dataset;
        Assert.Equal(HistoryImportStatus.Running, running.Status);

        Assert.Equal(1, await Store.InterruptAbandonedImportsAsync());

        var after = (await Store.GetDatasetAsync(running.Id))!.Dataset;
        Assert.Equal(HistoryImportStatus.Interrupted, after.Status);
        Assert.NotNull(after.FinishedUtc);
        Assert.Equal(0, await Store.InterruptAbandonedImportsAsync());
    }

    [Fact]
    public async Task ImportRouterBench_EmptyScoreIsMissingNotZero_OutputTokensFromResponses_ScorelessOutcomesCounted()
    {
        const string csv = """"
            sample_id,prompt,eval_name,gpt-4,mistral-7b,gpt-4|model_response,mistral-7b|model_response,gpt-4|total_cost,mistral-7b|total_cost
            mmlu.1,"['You are a helpful assistant.', ""What's 2+2?""]",mmlu,1.0,,Four.,It is four.,0.0012,0.0001
            mbpp.2,Write a function.,mbpp,0,1,"def f():
                return 1",ok,0.002,0.0001
            """";
        var store = Store;

        var done = await ImportAsync(store, Encoding.UTF8.GetBytes(csv), new HistoryImportOptions { Format = HistoryFormat.RouterBench });

        Assert.Equal((2, 2, 0), (done.RowsRead, done.RowsImported, done.RowsRejected));
        await using var db = await _db.CreateContextAsync();
        var first = await db.HistoryPrompts.Include(p => p.Outcomes).SingleAsync(p => p.ExternalId == "mmlu.1");
        Assert.Equal("You are a helpful assistant.\nWhat's 2+2?", first.Prompt);
        var gpt4 = Assert.Single(first.Outcomes); // mistral's empty score is missing: no outcome, never a 0
        Assert.Equal(("gpt-4", 1.0, O200kTokenCounter.Shared.Count("Four."), 0.0012), (gpt4.DatasetModel, gpt4.Score, gpt4.OutputTokens!.Value, gpt4.CostUsd!.Value));
        var second = await db.HistoryPrompts.Include(p => p.Outcomes).SingleAsync(p => p.ExternalId == "mbpp.2");
        Assert.Equal([0.0, 1.0], second.Outcomes.OrderBy(o => o.DatasetModel).Select(o => o.Score));
        var detail = (await store.GetDatasetAsync(done.Id))!;
        Assert.Contains(detail.Issues, i => i.Line is null && i.Message.StartsWith("1 outcome(s) with an output length or cost but no score"));
    }

    [Fact]
    public async Task ImportGenericCsv_RowsOfOnePrompt_AreOnePromptWithEachModelsOutcome()
    {
        const string csv = """
            prompt,model,score,output_tokens,cost_usd
            Translate 'cat' to French.,gpt-4o,1,3,0.00004
            Write a haiku.,gpt-4o,0.75,,
            Translate 'cat' to French.,llama-3-8b,0.5,5,
            """;

        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes(csv), new HistoryImportOptions { Format = HistoryFormat.Csv, BatchSize = 1 });

        Assert.Equal((3, 3, 0), (done.RowsRead, done.RowsImported, done.RowsRejected));
        await using var db = await _db.CreateContextAsync();
        var cat = await db.HistoryPrompts.Include(p => p.Outcomes).SingleAsync(p => p.Prompt == "Translate 'cat' to French.");
        Assert.Equal(["gpt-4o", "llama-3-8b"], cat.Outcomes.OrderBy(o => o.Id).Select(o => o.DatasetModel));
        Assert.Equal(2, await db.HistoryPrompts.CountAsync());
    }

    [Fact]
    public async Task ImportLlmRouter_BrokenJsonMidFile_FailsNamingTheLine_RowsBeforeItKept()
    {
        var json = "[\n{\"question\": \"a\", \"scores\": {\"m\": 1}},\n{\"question\": \"b\", \"scores\": {\"m\": 0}},\n{\"question\": \"c\", \"scores\": {\"m\": oops}}\n]";

        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes(json), new HistoryImportOptions { Format = HistoryFormat.LlmRouter, BatchSize = 1 });

        Assert.Equal(HistoryImportStatus.Failed, done.Status);
        Assert.Contains("line 4", done.Failure);
        Assert.Contains("2 rows before it are kept", done.Failure);
        Assert.Equal(2, done.RowsImported);
        Assert.Contains((await Store.GetDatasetAsync(done.Id))!.Issues, i => i.Line == 4);
    }

    [Fact]
    public async Task Import_NothingUsable_FailsWithTheFirstProblem()
    {
        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes("nope\nstill nope\n"), new HistoryImportOptions { Format = HistoryFormat.Jsonl });

        Assert.Equal(HistoryImportStatus.Failed, done.Status);
        Assert.Contains("No row could be imported", done.Failure);
        Assert.Equal((2, 0, 2), (done.RowsRead, done.RowsImported, done.RowsRejected));
    }

    [Fact]
    public async Task Import_IssuesPastTheCap_AreCountedButNotStored()
    {
        var lines = Enumerable.Range(0, HistoryStore.MaxStoredIssues + 205).Select(_ => "garbage").Append("""{"prompt": "ok", "scores": {"m": 1}}""");

        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes(string.Join('\n', lines)), new HistoryImportOptions { Format = HistoryFormat.Jsonl, BatchSize = 400 });

        Assert.Equal(HistoryImportStatus.Completed, done.Status);
        Assert.Equal(HistoryStore.MaxStoredIssues + 205, done.RowsRejected);
        var detail = (await Store.GetDatasetAsync(done.Id))!;
        Assert.Equal(HistoryStore.MaxStoredIssues, detail.Issues.Count(i => i.Line is not null));
        Assert.Equal(205, detail.IssuesOmitted);
        Assert.Equal(HistoryStore.MaxStoredIssues, detail.Issues[^1].Line);
    }

    [Fact]
    public async Task SetModelMap_MapsAndUnmaps_UnknownNamesAreFieldErrors_OnlyMappedRowsReachTheEstimatorUnderRegistryNames()
    {
        var registry = (await _db.Store.CreateModelAsync(Samples.Llama8B with { Name = "Registry-A" })).Value!;
        var changes = new List<HistoryChange>();
        _db.Services.GetRequiredService<HistoryChangeSignal>().Changed += changes.Add;
        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes("""{"prompt": "p1", "scores": {"a": 1, "b": 0}}""" + "\n" + """{"prompt": "p2", "scores": {"a": 0.5}}"""),
            new HistoryImportOptions { Format = HistoryFormat.Jsonl });
        Assert.Equal(2, done.UnmappedModels);
        Assert.Empty(Store.ReadMappedEntries(0, await Store.LastOutcomeIdAsync()));

        var invalid = await Store.SetModelMapAsync(done.Id, [new HistoryModelMapInput("nope", registry.Id), new HistoryModelMapInput("a", 9999)]);
        Assert.False(invalid.IsOk);
        Assert.Contains("nope", invalid.Errors.ToString());
        Assert.Contains("9999", invalid.Errors.ToString());
        Assert.False((await Store.SetModelMapAsync(404, [])).IsOk);

        var mapped = await Store.SetModelMapAsync(done.Id, [new HistoryModelMapInput("b", registry.Id)]);

        Assert.True(mapped.IsOk);
        Assert.Equal([("a", (int?)null), ("b", registry.Id)], mapped.Value!.Select(m => (m.DatasetModel, m.RegistryModelId)));
        Assert.Contains(new HistoryChange(done.Id, HistoryChangeKind.Mapping), changes);
        var entry = Assert.Single(Store.ReadMappedEntries(0, await Store.LastOutcomeIdAsync()));
        Assert.Equal("p1", entry.Prompt);
        Assert.Equal([new ModelOutcome("Registry-A", 0)], entry.Outcomes);

        await Store.SetModelMapAsync(done.Id, [new HistoryModelMapInput("b", null)]);
        Assert.Empty(Store.ReadMappedEntries(0, await Store.LastOutcomeIdAsync()));
    }

    [Fact]
    public async Task Delete_RemovesPromptsOutcomesAndMapping_ARunningImportIsRefused()
    {
        var done = await ImportAsync(Store, Encoding.UTF8.GetBytes("""{"prompt": "p", "scores": {"m": 1}}"""), new HistoryImportOptions { Format = HistoryFormat.Jsonl });
        var running = (await Store.BeginImportAsync("busy", HistoryFormat.Jsonl, Sha([1, 2, 3]), 3)).Value!.Dataset;

        Assert.Equal(Flare.Data.Registry.OutcomeKind.Conflict, (await Store.DeleteDatasetAsync(running.Id)).Kind);
        Assert.True((await Store.DeleteDatasetAsync(done.Id)).IsOk);
        Assert.Equal(Flare.Data.Registry.OutcomeKind.NotFound, (await Store.DeleteDatasetAsync(done.Id)).Kind);

        Assert.Equal(0, await CountAsync(db => db.HistoryPrompts.CountAsync()));
        Assert.Equal(0, await CountAsync(db => db.HistoryOutcomes.CountAsync()));
        Assert.Equal(0, await CountAsync(db => db.HistoryModelMap.CountAsync()));
    }

    [Fact]
    public async Task Feedback_CreatesTheFeedbackDatasetOnce_UpsertsThePromptByHash_MapsTheModelByName()
    {
        var model = (await _db.Store.CreateModelAsync(Samples.Llama8B)).Value!;

        var first = await Store.AddFeedbackAsync("req_1", "Summarise this.", model.Name, 0.9, 40, 0.001);
        var second = await Store.AddFeedbackAsync("req_2", "Summarise this.", model.Name, 0.3, null, null);
        var other = await Store.AddFeedbackAsync("req_3", "Translate this.", "unknown-model", 1, null, null);

        Assert.Equal(first.DatasetId, second.DatasetId);
        Assert.Equal(first.DatasetId, other.DatasetId);
        Assert.True(first.NewPrompt);
        Assert.False(second.NewPrompt);
        Assert.Equal(first.PromptId, second.PromptId);
        Assert.True(first.Mapped);
        Assert.False(other.Mapped);
        var dataset = Assert.Single(await Store.ListDatasetsAsync());
        Assert.Equal((HistoryFormats.Feedback, 3, 3, 1), (dataset.Format, dataset.RowsRead, dataset.RowsImported, dataset.UnmappedModels));
        await using var db = await _db.CreateContextAsync();
        var prompt = await db.HistoryPrompts.Include(p => p.Outcomes).SingleAsync(p => p.Id == first.PromptId);
        Assert.Equal((HistorySource.Feedback, "req_1"), (prompt.Source, prompt.ExternalId));
        Assert.Equal([0.9, 0.3], prompt.Outcomes.OrderBy(o => o.Id).Select(o => o.Score));
        var entries = Store.ReadMappedEntries(0, await Store.LastOutcomeIdAsync()).ToList();
        Assert.Equal(2, entries.Sum(e => e.Outcomes.Count));
        Assert.All(entries.SelectMany(e => e.Outcomes), o => Assert.Equal(model.Name, o.Model));
    }
}
