using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Data.Profiling;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;
using Flare.Tests.Support;
using Flare.Tests.Web.Gateway;
using Flare.Web.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Flare.Tests.Web.Hosting;

/// <summary>
/// Two Flare hosts on loopback sharing one real PostgreSQL database (the throwaway cluster ./test.sh starts), in front of
/// the same emulated deployments: what one host is told, the other acts on.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class MultiHostTests
{
    private const string Prompt = "Say hello to the fleet.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A routing history in which "strong" scores 0.9 and "weak" 0.5 on prompts like the test's (both hosts).</summary>
    private sealed class TestHistory : IHistoryEstimatorSource
    {
        public HistoryEstimator Current { get; } = HistoryEstimator.Build(
            new[] { "Say hello to the fleet.", "Say hello to the team.", "Say goodbye to the fleet." }.Select(p =>
                new HistoryEntry(p, [new ModelOutcome("strong", 0.9, 8), new ModelOutcome("weak", 0.5, 8)])),
            new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(HashedNgramEmbedderOptions.Default.Dimensions));

        public bool IsReady => true;
    }

    private static void History(IServiceCollection services) => services.AddSingleton<IHistoryEstimatorSource>(new TestHistory());

    /// <summary>Host A (with the emulated backends) and host B, both on <paramref name="db"/>.</summary>
    private static async Task<(GatewayFixture A, FlareServer B, HttpClient ClientB, TempDirectory DirB)> StartTwoAsync(PostgresTestDatabase db)
    {
        var a = await GatewayFixture.StartAsync(History, db.FlareArgs);
        var dirB = new TempDirectory();
        var b = new FlareServer(dirB.Path, demo: false, [$"--Flare:BootstrapApiKey={GatewayFixture.ClientKey}", "--Flare:Gateway:ProbeIntervalSeconds=0.2", .. db.FlareArgs])
        {
            ConfigureServices = History,
        };
        await b.StartAsync(Ct);
        var clientB = b.CreateClient();
        clientB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFixture.ClientKey);
        return (a, b, clientB, dirB);
    }

    [Fact]
    public async Task RegistryEditAndPlanAppliedOnHostA_ReachHostB_Within2Seconds()
    {
        await using var db = PostgresTestDatabase.Create();
        var (a, b, clientB, dirB) = await StartTwoAsync(db);
        await using (a)
        await using (b)
        using (clientB)
        using (dirB)
        {
            // A registry edit on A reaches B's routing snapshot.
            var watch = Stopwatch.StartNew();
            await a.AddDeploymentAsync("strong", "strong@emu", pricePerMTokUsd: 10);
            var weak = await a.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
            var routingB = b.Services.GetRequiredService<RoutingState>();
            while (!routingB.Snapshot.Deployments.Any(d => d.Id == weak.Id))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "host B did not see host A's new deployment within 2 s");
                await Task.Delay(10, Ct);
            }

            var bestQuality = await ReadyPlanAsync(a.Client, "best-quality");
            var cheaper = await ReadyPlanAsync(a.Client, "flare", new { qualityWeight = 1, costWeight = 10 });
            await ActivateAsync(a.Client, bestQuality);
            Assert.Equal(bestQuality, await PlanServedByAsync(clientB, bestQuality));
            Assert.Equal("strong@emu", await DeploymentServedByAsync(clientB));

            // The switch: measured from A's answer to the activation to B's first request routed by the new plan.
            watch.Restart();
            await ActivateAsync(a.Client, cheaper);
            var propagated = watch.Elapsed;
            Assert.Equal(cheaper, await PlanServedByAsync(clientB, cheaper));
            var total = watch.Elapsed;
            Assert.True(total < TimeSpan.FromSeconds(2), $"host B routed by the new plan {total.TotalMilliseconds:0} ms after host A applied it (activation answered after {propagated.TotalMilliseconds:0} ms)");
            Assert.Equal("weak@emu", await DeploymentServedByAsync(clientB));
            TestContext.Current.SendDiagnosticMessage($"plan on A → routed by on B: {total.TotalMilliseconds:0} ms");
        }
    }

    [Fact]
    public async Task ProfilingRunStartedOnHostA_RunsExactlyOnce_AndHostBSeesItFinish()
    {
        await using var db = PostgresTestDatabase.Create();
        var (a, b, clientB, dirB) = await StartTwoAsync(db);
        await using (a)
        await using (b)
        using (clientB)
        using (dirB)
        {
            var deployment = await a.AddDeploymentAsync("llama-8b", "llama-8b@emu");
            var backend = a.Fleet.Backends.Single();
            var before = backend.RequestCount;

            // Two grid cells, 4 measured requests each after one warm-up round: 4 + 1 at concurrency 1; at 2, a probe of the
            // cycle time, 2 warm-ups, 4 measured and at most 2 fillers that keep the last measured ones at 2 in flight.
            var created = await a.Client.PostAsJsonAsync($"/api/deployments/{deployment.Id}/profile/runs",
                new { inputLengths = new[] { 64 }, outputLengths = new[] { 4 }, concurrency = new[] { 1, 2 }, requestsPerCell = 4, warmupRequests = 1 }, Ct);
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
            var runId = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt32();

            var deadline = DateTime.UtcNow.AddSeconds(60);
            JsonElement run;
            while (true)
            {
                run = JsonDocument.Parse(await b.CreateClient().GetStringAsync($"/api/profile-runs/{runId}", Ct)).RootElement;
                if (run.GetProperty("status").GetString() is not ("Queued" or "Running"))
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"the run did not finish within 60 s: {run}");
                await Task.Delay(200, Ct);
            }

            Assert.Equal("Completed", run.GetProperty("status").GetString());
            Assert.Equal(8, run.GetProperty("samplesRecorded").GetInt32());
            Assert.Equal(2, run.GetProperty("cellsDone").GetInt32());
            // One run sends 12 to 15 requests; the same run executed on both hosts would have sent at least 24.
            Assert.InRange(backend.RequestCount - before, 12, 15);

            // Both hosts' job servers were polling the one queue; one of them took the job.
            await using var connection = new NpgsqlConnection(db.ConnectionString);
            await connection.OpenAsync(Ct);
            await using var servers = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
            Assert.Equal(2L, (long)(await servers.ExecuteScalarAsync(Ct))!);
            await using var succeeded = new NpgsqlCommand("SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'", connection);
            Assert.Equal(1L, (long)(await succeeded.ExecuteScalarAsync(Ct))!);
        }
    }

    private static async Task<long> ReadyPlanAsync(HttpClient client, string policy, object? parameters = null)
    {
        var created = await client.PostAsJsonAsync("/api/plans", new { policy, parameters, reason = $"test {policy}" }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var plan = JsonDocument.Parse(await client.GetStringAsync($"/api/plans/{id}", Ct)).RootElement;
            var status = plan.GetProperty("status").GetString();
            if (status == "Ready")
            {
                return id;
            }

            Assert.True(status == "Computing" && DateTime.UtcNow < deadline, $"plan {id} is {status}: {plan.GetProperty("failure")}");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task ActivateAsync(HttpClient client, long id)
    {
        var response = await client.PostAsJsonAsync($"/api/plans/{id}/activate", new { reason = "test" }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    private static object Chat() => new { model = "flare", max_tokens = 4, ignore_eos = true, messages = new[] { new { role = "user", content = Prompt } } };

    /// <summary>Sends requests to "flare" until one is routed by <paramref name="plan"/> (for up to 5 s); returns the plan the last was routed by.</summary>
    private static async Task<long> PlanServedByAsync(HttpClient client, long plan)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
            var served = long.TryParse(response.Headers.GetValues("x-flare-plan").First(), out var v) ? v : 0;
            if (served == plan || DateTime.UtcNow > deadline)
            {
                return served;
            }

            await Task.Delay(10, Ct);
        }
    }

    private static async Task<string> DeploymentServedByAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
        return response.Headers.GetValues("x-flare-deployment").First();
    }
}
