using Bunit;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Flare.Web.Components.Pages;

namespace Flare.Tests.Web.Components;

public sealed class RegistryPageTests : ComponentTestBase
{
    [Fact]
    public void Pages_EmptyRegistry_SayWhatToDoNext()
    {
        // Each page loads the registry after its first render (at once on SQLite, whose driver completes synchronously; a
        // moment later on PostgreSQL).
        AssertSays<Gpus>("No GPU types yet");
        AssertSays<Models>("No models yet");
        AssertSays<Deployments>("No deployments yet");
        AssertSays<Home>("No deployments yet");
    }

    private void AssertSays<TPage>(string text) where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        var cut = Ctx.Render<TPage>();
        cut.WaitForAssertion(() => Assert.Contains(text, cut.Markup));
    }

    [Fact]
    public async Task Deployments_EmulatedKind_CarriesTheEmulatedBadge()
    {
        var (gpu, model, _) = await Samples.FleetAsync(Db.Store);
        await Db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "emu") with { Kind = DeploymentKind.Emulated });

        var cut = Ctx.Render<Deployments>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=badge-emulated]")));
        Assert.Equal(2, cut.FindAll("[data-testid=deployment-table] tbody tr").Count);
    }

    [Fact]
    public async Task Gpus_ShowsPoolTotalsAndUpdatesWhenTheRegistryChanges()
    {
        await Db.Store.CreateGpuTypeAsync(Samples.A100);
        var cut = Ctx.Render<Gpus>();
        cut.WaitForAssertion(() => Assert.Equal("4", cut.Find("[data-testid=pool-total]").TextContent));

        await Db.Store.CreateGpuTypeAsync(Samples.L4);

        cut.WaitForAssertion(() => Assert.Equal("6", cut.Find("[data-testid=pool-total]").TextContent));
    }

    [Fact]
    public async Task Models_ShowsDeploymentCountAndPrices()
    {
        await Samples.FleetAsync(Db.Store);

        var cut = Ctx.Render<Models>();

        cut.WaitForAssertion(() => Assert.Contains("llama-3.1-8b-instruct", cut.Markup));
        var row = cut.Find("[data-testid=model-table] tbody tr");
        Assert.Contains("0.20 · 0.20", row.TextContent);
        Assert.Equal("1", row.QuerySelectorAll("td")[6].TextContent.Trim());
    }
}
