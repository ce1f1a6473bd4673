using Flare.Data.Plans;
using Flare.Routing.Optimization;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using Flare.Web.Explorer;
using Flare.Web.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Plans;

/// <summary>Apply in the explorer: a chosen point becomes the live plan, with the prediction in the audit trail.</summary>
[Collection(nameof(HostCollection))]
public sealed class ExplorerPlansTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExplorerPoint Point(ExplorerFamily family, RoutingPlan plan, string? fixedDeployment = null) =>
        new(family, "test point", 0.61, 420, 900, 0.35, new Dictionary<string, double>(), plan, null, fixedDeployment, [], []);

    [Fact]
    public async Task ApplyingAFlarePoint_MakesItTheLivePlan_WithThePredictionInTheAuditTrail_AndTheLivePointIsReported()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        var applier = server.Services.GetRequiredService<IOperatingPointApplier>();
        var live = server.Services.GetRequiredService<ILiveOperatingPoint>();
        Assert.Null(live.LivePlan);

        var weights = new RoutingPlan(0, "flare", 1, 0.5, 0.2, 1, 1, new Dictionary<string, double>(), new Dictionary<string, double>());
        var applied = await applier.ApplyAsync(new OperatingPointChoice(Point(ExplorerFamily.Flare, weights), new ExplorerSettings(2), "cheaper for the weekend"), Ct);

        Assert.True(applied.Applied, applied.Message);
        var store = server.Services.GetRequiredService<PlanStore>();
        var plan = (await store.GetAsync(applied.PlanVersion!.Value, Ct))!;
        Assert.Equal("flare", plan.Policy);
        Assert.Equal(0.5, plan.Parameters.CostWeight);
        Assert.True(plan.IsLive);
        var activation = (await store.ListActivationsAsync(1, Ct)).Single();
        Assert.Contains("cheaper for the weekend", activation.Reason);
        Assert.Contains("predicted quality 0.610", activation.Reason);
        Assert.Equal(applied.PlanVersion, server.Services.GetRequiredService<RoutingState>().Plans.Live.Version);
        Assert.Equal(0.5, live.LivePlan!.CostWeight);
        Assert.Contains($"plan {applied.PlanVersion}", live.Description);
    }

    [Fact]
    public async Task ApplyingASingleDeploymentPoint_RoutesToItsModel_AndTheOracleIsRefused()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        var applier = server.Services.GetRequiredService<IOperatingPointApplier>();
        var deployment = server.Services.GetRequiredService<RoutingState>().Snapshot.Deployments[0];
        var none = RoutingPlan.BestQuality();

        var fixedPoint = await applier.ApplyAsync(new OperatingPointChoice(Point(ExplorerFamily.Fixed, none, deployment.Name), new ExplorerSettings(1), "pin it"), Ct);
        var oracle = await applier.ApplyAsync(new OperatingPointChoice(Point(ExplorerFamily.Oracle, none), new ExplorerSettings(1), "cheat"), Ct);

        Assert.True(fixedPoint.Applied, fixedPoint.Message);
        var plan = (await server.Services.GetRequiredService<PlanStore>().GetAsync(fixedPoint.PlanVersion!.Value, Ct))!;
        Assert.Equal(("fixed", deployment.ModelName), (plan.Policy, plan.Parameters.Model));
        Assert.False(oracle.Applied);
        Assert.Contains("oracle", oracle.Message);
    }
}
