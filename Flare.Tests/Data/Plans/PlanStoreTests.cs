using Flare.Data.Plans;
using Flare.Data.Registry;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Data.Plans;

public sealed class PlanStoreTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    private PlanStore Store => _db.Services.GetRequiredService<PlanStore>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    private async Task<long> ReadyPlanAsync(string policy = "best-quality", PlanParameters? parameters = null)
    {
        var created = await Store.CreateAsync(policy, parameters, "alice", $"try {policy}");
        Assert.True(created.IsOk, created.Errors.ToString());
        var ready = await Store.CompleteAsync(created.Value!.Id, PlanPrices.Empty,
            new PlanPrediction(0.8, 900, 1500, 1.2, new Dictionary<string, double> { ["d"] = 1 }, 0, 1, "test", null, []));
        Assert.True(ready.IsOk, ready.Message);
        return created.Value.Id;
    }

    [Fact]
    public async Task Create_StoresComputingWithWhoAndWhy_CompleteMakesItReadyOnce()
    {
        var created = await Store.CreateAsync("flare", new PlanParameters { CostWeight = 0.5 }, "alice", "cheaper at night");

        Assert.Equal(RoutingPlanStatus.Computing, created.Value!.Status);
        var prices = new PlanPrices { CostScaleUsd = 0.002, LatencyScaleMs = 800 };
        Assert.True((await Store.CompleteAsync(created.Value.Id, prices, null)).IsOk);
        var plan = await Store.GetAsync(created.Value.Id);
        Assert.Equal(RoutingPlanStatus.Ready, plan!.Status);
        Assert.Equal(0.5, plan.Parameters.CostWeight);
        Assert.Equal(0.002, plan.Prices.CostScaleUsd);
        Assert.Equal(("alice", "cheaper at night"), (plan.CreatedBy, plan.Reason));

        // A second job run (or a late failure) does not change a finished plan.
        Assert.Equal(OutcomeKind.Conflict, (await Store.FailAsync(created.Value.Id, "late")).Kind);
        Assert.Equal(RoutingPlanStatus.Ready, (await Store.GetAsync(created.Value.Id))!.Status);
    }

    [Fact]
    public async Task Create_InvalidInput_FieldErrors()
    {
        var outcome = await Store.CreateAsync("routerwise", new PlanParameters { ArrivalRatePerSecond = -1 }, " ", "");

        Assert.Equal(OutcomeKind.Invalid, outcome.Kind);
        Assert.NotNull(outcome.Errors.For("parameters.sloMs"));
        Assert.NotNull(outcome.Errors.For("parameters.arrivalRatePerSecond"));
        Assert.NotNull(outcome.Errors.For("by"));
        Assert.NotNull(outcome.Errors.For("reason"));
        Assert.NotNull((await Store.CreateAsync("fixed", new PlanParameters { Model = "ghost" }, "a", "b")).Errors.For("parameters.model"));
    }

    [Fact]
    public async Task Fail_KeepsTheReason_AndAFailedPlanCannotGoLive()
    {
        var created = await Store.CreateAsync("routerwise", new PlanParameters { SloMs = 1, ArrivalRatePerSecond = 5 }, "alice", "tight");
        await Store.FailAsync(created.Value!.Id, "No split meets the SLO.");

        Assert.Equal("No split meets the SLO.", (await Store.GetAsync(created.Value.Id))!.Failure);
        Assert.Equal(OutcomeKind.Conflict, (await Store.ActivateAsync(created.Value.Id, "alice", "go")).Kind);
        Assert.Equal(OutcomeKind.NotFound, (await Store.ActivateAsync(999, "alice", "go")).Kind);
    }

    [Fact]
    public async Task ActivateAndRollback_AuditTrailRecordsEveryChange()
    {
        Assert.Null((await Store.GetLiveAsync()).Plan);
        Assert.Equal(OutcomeKind.Conflict, (await Store.RollbackAsync("alice", "nothing yet")).Kind);
        var a = await ReadyPlanAsync();
        var b = await ReadyPlanAsync("cheapest");

        var first = await Store.ActivateAsync(a, "alice", "launch");
        Assert.Equal(OutcomeKind.Conflict, (await Store.RollbackAsync("alice", "first plan")).Kind);
        Assert.Equal(OutcomeKind.Conflict, (await Store.ActivateAsync(a, "alice", "again")).Kind);
        var second = await Store.ActivateAsync(b, "bob", "save money");
        var live = await Store.GetLiveAsync();
        Assert.Equal(b, live.Plan!.Id);
        Assert.True(live.Plan.IsLive);
        Assert.Equal(a, second.Value!.PreviousPlanId);

        var back = await Store.RollbackAsync("carol", "quality dropped");

        Assert.True(back.IsOk, back.Message);
        Assert.Equal((a, (long?)b, "carol", "quality dropped"), (back.Value!.PlanId, back.Value.PreviousPlanId, back.Value.ActivatedBy, back.Value.Reason));
        Assert.Equal(a, (await Store.GetLiveAsync()).Plan!.Id);
        var trail = await Store.ListActivationsAsync();
        Assert.Equal([back.Value.Id, second.Value.Id, first.Value!.Id], trail.Select(t => t.Id));
        Assert.Equal(["best-quality", "cheapest", "best-quality"], trail.Select(t => t.Policy));
        var plans = await Store.ListAsync();
        Assert.Equal([b, a], plans.Select(p => p.Id));
        Assert.Equal([false, true], plans.Select(p => p.IsLive));
        Assert.All(plans, p => Assert.NotNull(p.LastActivatedUtc));
    }

    [Fact]
    public async Task Activate_ConcurrentActivations_SerializeIntoOneChain()
    {
        var plans = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            plans.Add(await ReadyPlanAsync());
        }

        var results = await Task.WhenAll(plans.Select(id => Task.Run(() => Store.ActivateAsync(id, "load", "race"))));

        Assert.All(results, r => Assert.True(r.IsOk, r.Message));
        // Each activation names as previous exactly the plan the one before it made live: none read a stale live plan.
        var trail = (await Store.ListActivationsAsync()).OrderBy(a => a.Id).ToList();
        Assert.Null(trail[0].PreviousPlanId);
        for (var i = 1; i < trail.Count; i++)
        {
            Assert.Equal(trail[i - 1].PlanId, trail[i].PreviousPlanId);
        }

        Assert.Equal(trail[^1].PlanId, (await Store.GetLiveAsync()).Plan!.Id);
    }

    [Fact]
    public async Task NewestReadyByPolicy_OnePerPolicy_ComputingPlansListed()
    {
        await ReadyPlanAsync("cheapest");
        var newer = await ReadyPlanAsync("cheapest");
        var random = await ReadyPlanAsync("random", new PlanParameters { Seed = 3 });
        var computing = await Store.CreateAsync("cheapest", null, "alice", "pending");

        var ready = await Store.NewestReadyByPolicyAsync();

        Assert.Equal([newer, random], ready.Select(p => p.Id).Order());
        Assert.Equal(3, ready.Single(p => p.Policy == "random").Parameters.Seed);
        Assert.Equal([computing.Value!.Id], await Store.ListComputingAsync());
    }
}
