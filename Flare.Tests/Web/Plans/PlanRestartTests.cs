using Flare.Data;
using Flare.Data.Plans;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Plans;

/// <summary>Flare stopped and started again on the same database: the live plan comes back, unfinished plans are finished.</summary>
[Collection(nameof(HostCollection))]
public sealed class PlanRestartTests
{
    private static async Task<PlanView> WaitForReadyAsync(PlanStore store, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var plan = (await store.GetAsync(id))!;
            if (plan.Status != RoutingPlanStatus.Computing)
            {
                Assert.Equal(RoutingPlanStatus.Ready, plan.Status);
                return plan;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Plan {id} was still computing after 30 s.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Restart_LoadsTheLastActivation_AndComputesPlansLeftComputing()
    {
        using var dir = new TempDirectory();
        long live;
        await using (var first = new FlareServer(dir.Path, demo: false))
        {
            await first.StartAsync();
            var store = first.Services.GetRequiredService<PlanStore>();
            var service = first.Services.GetRequiredService<Flare.Web.Plans.PlanService>();
            live = (await service.CreateAsync("cheapest", null, "alice", "save")).Value!.Id;
            await WaitForReadyAsync(store, live);
            Assert.True((await service.ActivateAsync(live, "alice", "night")).IsOk);
            Assert.Equal(live, first.Services.GetRequiredService<RoutingState>().Plans.Live.Version);
        }

        // A plan written while Flare is down stands for one whose job a restart lost (Hangfire keeps jobs in memory).
        long pending;
        await using (var offline = new ServiceCollection().AddFlareDatabase(_ => TestProvider.Settings(dir.Path)).BuildServiceProvider())
        {
            pending = (await offline.GetRequiredService<PlanStore>().CreateAsync("random", new PlanParameters { Seed = 9 }, "bob", "spread")).Value!.Id;
        }

        await using var second = new FlareServer(dir.Path, demo: false);
        await second.StartAsync();

        var plans = second.Services.GetRequiredService<RoutingState>().Plans;
        Assert.Equal((live, "cheapest"), (plans.Live.Version, plans.Live.Policy));
        await WaitForReadyAsync(second.Services.GetRequiredService<PlanStore>(), pending);
    }
}
