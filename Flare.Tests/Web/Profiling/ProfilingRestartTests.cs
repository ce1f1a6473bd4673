using System.Net;
using System.Net.Http.Json;
using Flare.Data;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Emulator.Hosting;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Profiling;

/// <summary>A run cut off by killing Flare: interrupted at the next start, samples kept, and a resume completes it.</summary>
[Collection(nameof(HostCollection))]
public sealed class ProfilingRestartTests
{
    private static ProfileSweepSettings Grid => new()
    {
        InputLengths = [256, 1024],
        OutputLengths = [32, 96],
        Concurrency = [1, 2, 4],
        RequestsPerCell = 3,
        WarmupRequests = 1,
    };

    [Fact]
    public async Task KilledMidRun_ShowsInterruptedWithSamplesKept_AndResumeCompletesOnlyTheMissingCells()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        await using var fleet = new EmulatorFleet();
        await using var emulator = await EmulatorServer.StartAsync(fleet, cancellationToken: ct);
        fleet.AddOrUpdate("victim", new EmulatorBackendOptions { Profile = ProfilingFixture.Profile, TimeScale = ProfilingFixture.TimeScale, Seed = 3 });

        // Flare as its own process, so it can be killed for real (SIGKILL: no shutdown code runs).
        int runId;
        ProfileRunView beforeKill;
        using (var child = await FlareProcess.StartAsync(dir.Path, "api/deployments", ct))
        {
            var http = child.Client;
            var gpu = await PostAsync<GpuTypeView>(http, "api/gpu-types", Samples.A100);
            var model = await PostAsync<ModelView>(http, "api/models", Samples.Llama8B);
            var deployment = await PostAsync<DeploymentView>(http, "api/deployments", new DeploymentInput
            {
                Name = "victim", ModelId = model.Id, Kind = DeploymentKind.Emulated, BaseUrl = emulator.BackendBaseAddress("victim").ToString().TrimEnd('/'),
                ServedModelName = "llama", GpuTypeId = gpu.Id, GpuCount = 1, TensorParallel = 1, MaxConcurrency = 64,
            });
            runId = (await PostAsync<ProfileRunView>(http, $"api/deployments/{deployment.Id}/profile/runs", Grid)).Id;

            // Kill it once a few cells are stored and more are to come.
            beforeKill = await PollAsync(http, runId, r => r.CellsDone >= 3);
            Assert.True(beforeKill.CellsDone < beforeKill.CellsTotal, "the run finished before it could be killed");
            await child.KillAsync(ct);
        }

        // What a SIGKILL left behind (on SQLite the file, WAL included) is a sound database.
        Assert.Equal("ok", await IntegrityCheck.RunAsync(dir.Path, ct));

        // Started again on the same database: the run is interrupted, nothing recorded is lost.
        await using var flare = new FlareServer(dir.Path, demo: false);
        await flare.StartAsync(ct);
        var store = flare.Services.GetRequiredService<ProfilingStore>();
        var interrupted = (await store.GetRunAsync(runId))!;
        Assert.Equal(ProfileRunStatus.Interrupted, interrupted.Status);
        Assert.True(interrupted.SamplesRecorded >= beforeKill.SamplesRecorded);
        Assert.True(interrupted.CellsDone >= beforeKill.CellsDone);
        Assert.Contains("Resume", interrupted.Message);
        var kept = await store.ListSamplesAsync(runId);
        Assert.Equal(interrupted.SamplesRecorded, kept.Count);
        Dictionary<int, int> completeCells;
        await using (var db = await flare.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync(ct))
        {
            var cells = await db.ProfileCells.Where(c => c.RunId == runId).Select(c => c.CellIndex).ToListAsync(ct);
            completeCells = cells.ToDictionary(c => c, c => kept.Count(s => s.CellIndex == c));
        }

        Assert.Equal(interrupted.CellsDone, completeCells.Count);

        // Resume: the missing cells are measured, the complete ones are not measured again.
        using var client = flare.CreateClient();
        using (var resume = await client.PostAsync($"api/profile-runs/{runId}/resume", null, ct))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        }

        var done = await ProfilingFixture.WaitForRunAsync(store, runId, r => !r.IsLive, TimeSpan.FromSeconds(60));
        Assert.Equal(ProfileRunStatus.Completed, done.Status);
        Assert.Equal(done.CellsTotal, done.CellsDone);
        var all = await store.ListSamplesAsync(runId);
        Assert.Equal(done.SamplesRecorded, all.Count);
        foreach (var (cell, count) in completeCells)
        {
            Assert.Equal(count, all.Count(s => s.CellIndex == cell));
        }

        Assert.All(Grid.Cells(), c => Assert.Contains(all, s => s.CellIndex == c.Index));
        Assert.Single(await store.ListFitsAsync(done.DeploymentId));
    }

    private static async Task<T> PostAsync<T>(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body, ProfilingFixture.Json);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(ProfilingFixture.Json))!;
    }

    private static async Task<ProfileRunView> PollAsync(HttpClient http, int runId, Func<ProfileRunView, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = (await http.GetFromJsonAsync<ProfileRunView>($"api/profile-runs/{runId}", ProfilingFixture.Json))!;
            if (condition(run))
            {
                return run;
            }

            Assert.True(run.IsLive && DateTime.UtcNow < deadline, $"Run {runId} is {run.Status} ({run.CellsDone}/{run.CellsTotal}).");
            await Task.Delay(25);
        }
    }
}
