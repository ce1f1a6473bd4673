using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Routing.Estimation;
using Flare.Tests.Support;
using Flare.Tests.Web.Gateway;
using Flare.Web.Gateway;
using Flare.Web.Hosting;
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
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Appends a measured figure to <c>artifacts/multi-host.txt</c> (the tests assert on them; the file keeps them).</summary>
    private static void Record(string line)
    {
        var dir = Path.Combine(Artifacts.RepositoryRoot(), "artifacts");
        Directory.CreateDirectory(dir);
        File.AppendAllText(Path.Combine(dir, "multi-host.txt"), $"{DateTime.UtcNow:u} {line}{Environment.NewLine}");
    }

    private static void History(IServiceCollection services) => services.AddSingleton<IHistoryEstimatorSource>(new PlanRoutingTests.TestHistory());

    /// <summary>Host A (with the emulated backends) and host B, both on one database, stopped together.</summary>
    private sealed class TwoHosts : IAsyncDisposable
    {
        private readonly TempDirectory _dirB = new();

        public GatewayFixture A { get; private set; } = null!;

        public FlareServer B { get; private set; } = null!;

        /// <summary>Host B's client, with the /v1 key (and the admin token on /api).</summary>
        public HttpClient ClientB { get; private set; } = null!;

        public static async Task<TwoHosts> StartAsync(PostgresTestDatabase db)
        {
            var hosts = new TwoHosts { A = await GatewayFixture.StartAsync(History, db.FlareArgs) };
            hosts.B = new FlareServer(hosts._dirB.Path, demo: false, [$"--Flare:BootstrapApiKey={GatewayFixture.ClientKey}", "--Flare:Gateway:ProbeIntervalSeconds=0.2", .. db.FlareArgs])
            {
                ConfigureServices = History,
            };
            await hosts.B.StartAsync(Ct);
            hosts.ClientB = hosts.B.CreateClient();
            hosts.ClientB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFixture.ClientKey);
            return hosts;
        }

        public async ValueTask DisposeAsync()
        {
            ClientB?.Dispose();
            if (B is not null)
            {
                await B.DisposeAsync();
            }

            if (A is not null)
            {
                await A.DisposeAsync();
            }

            _dirB.Dispose();
        }
    }

    [Fact]
    public async Task RegistryEditAndPlanAppliedOnHostA_ReachHostB_Within2Seconds()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
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

        var bestQuality = await PlanRoutingTests.ReadyPlanAsync(a, "best-quality");
        var cheaper = await PlanRoutingTests.ReadyPlanAsync(a, "flare", new { qualityWeight = 1, costWeight = 10 });
        await PlanRoutingTests.ActivateAsync(a, bestQuality);
        Assert.Equal(bestQuality, await PlanServedByAsync(clientB, bestQuality));
        Assert.Equal("strong@emu", await DeploymentServedByAsync(clientB));

        // The switch: measured from A's answer to the activation to B's first request routed by the new plan.
        watch.Restart();
        await PlanRoutingTests.ActivateAsync(a, cheaper);
        var propagated = watch.Elapsed;
        Assert.Equal(cheaper, await PlanServedByAsync(clientB, cheaper));
        var total = watch.Elapsed;
        Assert.True(total < TimeSpan.FromSeconds(2), $"host B routed by the new plan {total.TotalMilliseconds:0} ms after host A applied it (activation answered after {propagated.TotalMilliseconds:0} ms)");
        Assert.Equal("weak@emu", await DeploymentServedByAsync(clientB));
        Record($"plan applied on host A → first request routed by it on host B: {total.TotalMilliseconds:0} ms (activation answered after {propagated.TotalMilliseconds:0} ms)");
    }

    [Fact]
    public async Task ProfilingRunStartedOnHostA_RunsExactlyOnce_AndHostBSeesItFinish()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
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

        // Both hosts' job servers were polling the one queue; one of them took the job. (The run is stored as completed
        // just before its job returns; Hangfire records the job's success a moment later.)
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var servers = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
        Assert.Equal(2L, (long)(await servers.ExecuteScalarAsync(Ct))!);
        await using var unfinished = new NpgsqlCommand("SELECT count(*) FROM hangfire.job WHERE statename IN ('Enqueued', 'Processing')", connection);
        var settled = DateTime.UtcNow.AddSeconds(10);
        while ((long)(await unfinished.ExecuteScalarAsync(Ct))! > 0)
        {
            Assert.True(DateTime.UtcNow < settled, "Hangfire had not recorded the profiling job's end 10 s after the run completed");
            await Task.Delay(50, Ct);
        }

        await using var succeeded = new NpgsqlCommand("SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'", connection);
        Assert.Equal(1L, (long)(await succeeded.ExecuteScalarAsync(Ct))!);
    }

    /// <summary>
    /// A PORT budget on one deployment, with drop, under concurrent load on both hosts: together they admit about what the
    /// budget pays for, over it by no more than the documented bound ((N − 1) × one host's admissions in two exchange
    /// intervals and two exchanges), where each host alone would have admitted the whole budget again.
    /// </summary>
    [Fact]
    public async Task PortBudgetSharedByBothHosts_IsNotExceededBeyondTheDocumentedBound()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
        await a.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
        // One request is estimated at about (10 + 4) tokens × $0.10 per million; the budget pays for 1,500 of them, several
        // seconds of both hosts' traffic, so that the exchange interval is short beside the budget's life, as in use.
        var probe = await a.Client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
        var perRequest = JsonDocument.Parse(await probe.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32() * 0.1e-6;
        const int affordable = 1500;
        var port = await PlanRoutingTests.ReadyPlanAsync(a, "port", new { budgetUsd = affordable * perRequest, budgetPeriodMinutes = 30, onExhausted = "Drop" });
        await PlanRoutingTests.ActivateAsync(a, port);
        Assert.Equal(port, await PlanServedByAsync(clientB, port, dropIsServed: true));
        var before = await ServedCountAsync(db, port);

        var served = new[] { new List<double>(), new List<double>() };
        var watch = Stopwatch.StartNew();
        async Task LoopAsync(HttpClient client, int host)
        {
            var refusals = 0;
            while (refusals < 20 && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
                if (response.IsSuccessStatusCode)
                {
                    lock (served)
                    {
                        served[host].Add(watch.Elapsed.TotalSeconds);
                    }

                    refusals = 0;
                }
                else
                {
                    Assert.Equal(429, (int)response.StatusCode);
                    refusals++;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 2).SelectMany(_ => new[] { LoopAsync(a.Client, 0), LoopAsync(clientB, 1) }));

        // The documented bound with what was measured: each host's admission rate while it admitted, and how stale the
        // other's figure could be (two exchange intervals plus two of the longest exchange either host made: one for
        // the other host to write its spending, one for this host to read it).
        double Rate(List<double> times) => times.Count < 2 ? 0 : times.Count / Math.Max(0.001, times[^1] - times[0]);
        var stale = 2 * (PostgresLedger.ExchangeInterval + new[] { a.Flare, b }
            .Select(h => h.Services.GetRequiredService<PostgresLedger>().LongestExchange).Max());
        var bound = Math.Ceiling(Math.Max(Rate(served[0]), Rate(served[1])) * stale.TotalSeconds) + 1;
        var total = served[0].Count + served[1].Count + before;
        Record(
            $"PORT budget shared by 2 hosts: served {served[0].Count} + {served[1].Count} (+{before} before) of an affordable {affordable}; bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        Assert.True(total >= affordable - 2, $"only {total} of an affordable {affordable} were served");
        Assert.True(total <= affordable + bound, $"{total} served: over the budget's {affordable} by more than the bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        // Each host alone would have admitted the whole budget: together they stayed far from twice it.
        Assert.True(total <= 1.5 * affordable, $"{total} served of an affordable {affordable}: the hosts did not share the budget");
        Assert.True(served[0].Count > 0 && served[1].Count > 0, "both hosts served some");
    }

    private static async Task<long> ServedCountAsync(PostgresTestDatabase db, long plan)
    {
        await Task.Delay(300, Ct); // the request log is written in batches
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM \"RequestLog\" WHERE \"PlanVersion\" = @plan AND \"Status\" = 200", connection);
        count.Parameters.AddWithValue("plan", plan);
        return (long)(await count.ExecuteScalarAsync(Ct))!;
    }

    private static object Chat() => new { model = "flare", max_tokens = 4, ignore_eos = true, messages = new[] { new { role = "user", content = "Say hello to the fleet." } } };

    /// <summary>Sends requests to "flare" until one is routed by <paramref name="plan"/> (for up to 5 s); returns the plan the last was routed by.</summary>
    private static async Task<long> PlanServedByAsync(HttpClient client, long plan, bool dropIsServed = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
            Assert.True(response.IsSuccessStatusCode || (dropIsServed && (int)response.StatusCode == 429), await response.Content.ReadAsStringAsync(Ct));
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
