using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Flare.Data;
using Flare.Data.Registry;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Hosting;

/// <summary>The first-run experience: demo fleet, in-process emulator and demo traffic, all over real HTTP.</summary>
[Collection(nameof(HostCollection))]
public sealed class DemoFleetEndToEndTests
{
    private const string Key = "sk-flare-demo-e2e-test-key-000000";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(TempDirectory Dir, FlareServer Server, HttpClient Client)> StartDemoAsync(double trafficPerSecond = 0)
    {
        var dir = new TempDirectory();
        var server = new FlareServer(dir.Path, demo: true,
            "--Flare:HostEmulator=true",
            $"--Flare:EmulatorBaseUrl=http://127.0.0.1:{FlareProcess.FreePort()}",
            "--Flare:EmulatorTimeScale=50",
            $"--Flare:DemoTrafficPerSecond={trafficPerSecond}",
            $"--Flare:BootstrapApiKey={Key}");
        await server.StartAsync(Ct);
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var routing = server.Services.GetRequiredService<RoutingState>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (routing.Snapshot.Deployments.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The demo fleet never reached the routing snapshot.");
            await Task.Delay(20, Ct);
        }

        return (dir, server, client);
    }

    [Fact]
    public async Task DemoFleet_ServedByTheInProcessEmulator()
    {
        var (dir, server, client) = await StartDemoAsync();
        using (dir)
        await using (server)
        using (client)
        {
            var response = await client.PostAsJsonAsync("/v1/chat/completions", new
            {
                model = "llama3-chatqa-1.5-70b",
                max_tokens = 4,
                messages = new[] { new { role = "user", content = "hello" } },
            }, Ct);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("chatqa-70b@h100x2", response.Headers.GetValues("x-flare-deployment").Single());
            // The emulator says which calibrated profile answered; a 70B model on H100s gets a 70B H100 profile.
            Assert.Matches("^llama-[23]-70b@h100", response.Headers.GetValues("x-flare-emulator").Single());
        }
    }

    [Fact]
    public async Task EmulatedDeployment_FaultsSetInTheRegistry_ReachTheClient()
    {
        var (dir, server, client) = await StartDemoAsync();
        using (dir)
        await using (server)
        using (client)
        {
            var store = server.Services.GetRequiredService<RegistryStore>();
            var d = (await store.ListDeploymentsAsync(Ct)).Single(x => x.Name == "gemma-2-9b@a100");
            var input = new DeploymentInput
            {
                Name = d.Name, ModelId = d.ModelId, Kind = d.Kind, BaseUrl = d.BaseUrl, ServedModelName = d.ServedModelName,
                GpuTypeId = d.GpuTypeId, GpuCount = d.GpuCount, TensorParallel = d.TensorParallel, MaxConcurrency = d.MaxConcurrency,
                Emulator = new EmulatorSettings(ErrorRate: 1, ErrorStatusCode: 429),
            };
            Assert.True((await store.UpdateDeploymentAsync(d.Id, input, Ct)).IsOk);

            HttpResponseMessage response;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            do
            {
                response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "gemma-2-9b-it", max_tokens = 4, messages = new[] { new { role = "user", content = "hi" } } }, Ct);
            }
            while (response.StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline && await Delay());

            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task DemoTraffic_FlowsThroughV1AtOnce()
    {
        var (dir, server, client) = await StartDemoAsync(trafficPerSecond: 20);
        using (dir)
        await using (server)
        using (client)
        {
            var factory = server.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>();
            var deadline = DateTime.UtcNow.AddSeconds(15);
            var served = 0;
            while (served < 5)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Only {served} demo requests were served within 15 s.");
                await Task.Delay(200, Ct);
                await using var db = await factory.CreateDbContextAsync(Ct);
                served = await db.RequestLog.CountAsync(r => r.Status == 200 && r.DeploymentName != null, Ct);
            }
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50, Ct);
        return true;
    }
}
