using Bunit;
using Flare.Data.Plans;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using PlansPage = Flare.Web.Components.Pages.Plans;
using Flare.Web.Gateway;
using Flare.Web.Plans;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Flare.Tests.Web.Components;

/// <summary>
/// The Plans page over a real database with the real store, service and publisher into a real routing state. Jobs go
/// to a Hangfire storage no server reads, so a plan stays computing until the test completes it (as the job would).
/// </summary>
public sealed class PlansPageTests : ComponentTestBase
{
    private PlanStore Store => Ctx.Services.GetRequiredService<PlanStore>();

    protected override void AddServices(IServiceCollection services)
    {
        services.AddLogging();
        services.AddSingleton(Db.Services.GetRequiredService<PlanStore>());
        services.AddSingleton(Db.Services.GetRequiredService<PlanChangeSignal>());
        services.AddSingleton(new RoutingState([new LeastOutstandingPolicy()]));
        services.AddSingleton<LivePlanPublisher>();
        services.AddSingleton<IBackgroundJobClient>(new BackgroundJobClient(new InMemoryStorage()));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PlanService>();
    }

    private async Task<long> ReadyPlanAsync(string policy, string reason)
    {
        var id = (await Store.CreateAsync(policy, null, "alice", reason)).Value!.Id;
        await Store.CompleteAsync(id, PlanPrices.Empty, new PlanPrediction(
            0.812, 940, 1800, 0.42, new Dictionary<string, double> { ["strong@a"] = 0.75, ["weak@b"] = 0.25 }, 0, 500, "500 prompts", null,
            ["Deployment 'weak@b' has no fitted profile: its latency is 500 ms to the first token + 20 ms per output token at any load."]));
        return id;
    }

    private static async Task ConfirmAsync(IRenderedComponent<MudDialogProvider> dialogs, string button)
    {
        dialogs.WaitForAssertion(() => Assert.Contains(dialogs.FindAll("button"), b => b.TextContent.Trim() == button));
        await dialogs.FindAll("button").Single(b => b.TextContent.Trim() == button).ClickAsync(new());
    }

    [Fact]
    public void Empty_SaysTheBuiltInDefaultRoutes_AndNothingToRollBack()
    {
        var cut = Ctx.Render<PlansPage>();

        cut.WaitForAssertion(() => Assert.Contains("No plans yet", cut.Find("[data-testid=plan-table]").TextContent));
        Assert.Contains("the built-in default · least-outstanding", cut.Find("[data-testid=live-plan]").TextContent);
        Assert.True(cut.Find("[data-testid=rollback]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task ComputePlan_NeedsAReason_ThenListedAsComputingByTheOperator()
    {
        var cut = Ctx.Render<PlansPage>();

        await cut.Find("[data-testid=compute-plan]").ClickAsync(new());
        Assert.Contains("Say why", cut.Markup);
        Assert.Empty(await Store.ListAsync());

        cut.Find("#plan-reason").Change("see what best quality costs");
        await cut.Find("[data-testid=compute-plan]").ClickAsync(new());

        var plan = Assert.Single(await Store.ListAsync());
        Assert.Equal(("best-quality", "operator", "see what best quality costs"), (plan.Policy, plan.CreatedBy, plan.Reason));
        cut.WaitForAssertion(() => Assert.Contains("Computing", cut.Find($"[data-testid=plan-{plan.Id}] [data-testid=plan-status]").TextContent));
    }

    [Fact]
    public async Task PolicySelect_ShowsThatPolicysParameters_AndTheirFieldErrors()
    {
        var cut = Ctx.Render<PlansPage>();
        var policy = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Policy");

        await cut.InvokeAsync(() => policy.Instance.ValueChanged.InvokeAsync("routerwise"));
        cut.Find("#plan-reason").Change("meet 300 ms");
        cut.Find("#plan-rate").Change("4");
        await cut.Find("[data-testid=compute-plan]").ClickAsync(new());

        Assert.Contains("The SLO (mean latency, ms) is required", cut.Markup);
        Assert.Empty(await Store.ListAsync());

        cut.Find("#plan-slo").Change("300");
        await cut.Find("[data-testid=compute-plan]").ClickAsync(new());
        var plan = Assert.Single(await Store.ListAsync());
        Assert.Equal((300.0, 4.0), (plan.Parameters.SloMs, plan.Parameters.ArrivalRatePerSecond));
    }

    [Fact]
    public async Task Apply_AsksForConfirmation_ThenThePlanIsLiveOnThePageAndInTheDataPlane()
    {
        var dialogs = Ctx.Render<MudDialogProvider>();
        var id = await ReadyPlanAsync("best-quality", "launch");
        var cut = Ctx.Render<PlansPage>();
        var row = cut.WaitForElement($"[data-testid=plan-{id}]").TextContent;
        Assert.Contains("0.812", row);
        Assert.Contains("strong@a 75%", row);
        Assert.Contains("$0.42", row);
        Assert.Contains("'weak@b' has no fitted profile", cut.Find($"[data-testid=plan-{id}-basis] [data-testid=plan-note]").TextContent);

        // No reason, no change.
        await cut.Find($"[data-testid=apply-{id}]").ClickAsync(new());
        Assert.Contains("Say why first", cut.Markup);

        cut.Find("#change-reason").Change("quality first for the launch");
        var applying = cut.Find($"[data-testid=apply-{id}]").ClickAsync(new());
        await ConfirmAsync(dialogs, "Apply");
        await applying;

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll($"[data-testid=plan-{id}] [data-testid=live-marker]")));
        Assert.Contains($"Live: plan {id} · best-quality", cut.Find("[data-testid=live-plan]").TextContent);
        Assert.Contains("quality first for the launch", cut.Find("[data-testid=activation-table]").TextContent);
        var live = Ctx.Services.GetRequiredService<RoutingState>().Plans.Live;
        Assert.Equal((id, "best-quality"), (live.Version, live.Policy));
        Assert.Equal("operator", (await Store.GetLiveAsync()).Activation!.ActivatedBy);
    }

    [Fact]
    public async Task Rollback_ConfirmedReturnsToThePreviousPlan()
    {
        var dialogs = Ctx.Render<MudDialogProvider>();
        var first = await ReadyPlanAsync("best-quality", "a");
        var second = await ReadyPlanAsync("cheapest", "b");
        var service = Ctx.Services.GetRequiredService<PlanService>();
        await service.ActivateAsync(first, "alice", "launch");
        await service.ActivateAsync(second, "alice", "save");
        var cut = Ctx.Render<PlansPage>();
        cut.WaitForAssertion(() => Assert.Contains($"Roll back to plan {first}", cut.Find("[data-testid=rollback]").TextContent));

        cut.Find("#change-reason").Change("cheapest hurt quality");
        var rolling = cut.Find("[data-testid=rollback]").ClickAsync(new());
        await ConfirmAsync(dialogs, "Roll back");
        await rolling;

        cut.WaitForAssertion(() => Assert.Contains($"Live: plan {first} · best-quality", cut.Find("[data-testid=live-plan]").TextContent));
        Assert.Equal(first, Ctx.Services.GetRequiredService<RoutingState>().Plans.Live.Version);
        Assert.Equal(3, cut.FindAll("[data-testid=activation-table] tbody tr").Count);
    }
}
