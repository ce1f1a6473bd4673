using System.Net;
using System.Net.Http.Json;
using Flare.Data;
using Flare.Data.History;
using Flare.Tests.Routing.Profiles;
using Flare.Tests.Support;
using Flare.Web.History;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.History;

/// <summary>
/// Issue 9, acceptance 3 (import half): Flare killed with SIGKILL in the middle of a history import. The database passes
/// its engine's integrity check (on SQLite the file the kill left behind; on PostgreSQL the rows and indexes the killed
/// connections' transactions left), every batch committed before the kill is there with its counters, the import shows as
/// interrupted, and uploading the same file again finishes it without duplicating a row.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class HistoryKillTests
{
    [Fact]
    public async Task KilledMidImport_DatabaseSound_CommittedRowsKept_ReuploadCompletesWithoutDuplicates()
    {
        var ct = TestContext.Current.CancellationToken;
        var train = SharedData.RequireFile("LLMRouter", "data", "dcrouter_preprocessed", "train.json");
        using var dir = new TempDirectory();
        HistoryDatasetView beforeKill;
        using (var child = await FlareProcess.StartAsync(dir.Path, "api/history/datasets", ct))
        {
            var http = child.Client;
            await using (var file = File.OpenRead(train))
            {
                using var upload = await http.PostAsync("api/history/datasets?format=llmrouter&name=dcrouter-train", new StreamContent(file), ct);
                Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
            }

            // Kill it once some batches are committed and more are to come.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                beforeKill = (await http.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", ProfilingJson, ct))!.Single();
                if (beforeKill.RowsImported > 0)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, "No batch was committed within 60 s.");
                await Task.Delay(20, ct);
            }

            await child.KillAsync(ct);
        }

        Assert.True(beforeKill.Status == HistoryImportStatus.Running && beforeKill.RowsImported < 5_608,
            $"the import had already finished ({beforeKill.Status}, {beforeKill.RowsImported} rows) when it was killed");
        Assert.Equal("ok", await IntegrityCheck.RunAsync(dir.Path, ct));

        await using var flare = new FlareServer(dir.Path, demo: false);
        await flare.StartAsync(ct);
        var store = flare.Services.GetRequiredService<HistoryStore>();
        var interrupted = (await store.ListDatasetsAsync(ct)).Single();
        Assert.Equal(HistoryImportStatus.Interrupted, interrupted.Status);
        Assert.True(interrupted.RowsImported >= beforeKill.RowsImported, $"{interrupted.RowsImported} rows after the kill, {beforeKill.RowsImported} seen before");
        Assert.Equal(interrupted.RowsImported, await PromptCountAsync(flare, ct));

        // The same file again: the import resumes and ends with every prompt exactly once.
        using (var admin = flare.CreateClient())
        await using (var file = File.OpenRead(train))
        {
            using var again = await admin.PostAsync("api/history/datasets?format=llmrouter&name=dcrouter-train", new StreamContent(file), ct);
            Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync(ct));
        }

        var done = await WaitAsync(store, d => d.Status == HistoryImportStatus.Completed, ct);
        Assert.Equal(5_608, done.RowsImported);
        Assert.Equal(5_608, await PromptCountAsync(flare, ct));
    }

    private static readonly System.Text.Json.JsonSerializerOptions ProfilingJson = Profiling.ProfilingFixture.Json;

    private static async Task<int> PromptCountAsync(FlareServer flare, CancellationToken ct)
    {
        await using var db = await flare.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync(ct);
        return await db.HistoryPrompts.CountAsync(ct);
    }

    private static async Task<HistoryDatasetView> WaitAsync(HistoryStore store, Func<HistoryDatasetView, bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var dataset = (await store.ListDatasetsAsync(ct)).Single();
            if (condition(dataset))
            {
                return dataset;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The import was {dataset.Status} with {dataset.RowsImported} rows after 120 s.");
            await Task.Delay(100, ct);
        }
    }
}
