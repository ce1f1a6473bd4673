using Bunit;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Flare.Web.Components.Registry;

namespace Flare.Tests.Web.Components;

public sealed class DeploymentEmulatorEditorTests : ComponentTestBase
{
    [Fact]
    public async Task EmulatedDeployment_ShowsEmulatorSettings_AndSavesFaults()
    {
        var (gpu, model, _) = await Samples.FleetAsync(Db.Store);
        var emulated = (await Db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "emu") with { Kind = DeploymentKind.Emulated })).Value!;

        var cut = Ctx.Render<DeploymentEditor>(p => p.Add(e => e.Existing, emulated));
        cut.WaitForElement("[data-testid=emulator-settings]");
        cut.Find("#emulator-error-rate").Input("0.25");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(async () => Assert.Equal(0.25, (await Db.Store.GetDeploymentAsync(emulated.Id)).Value!.Emulator!.ErrorRate));
    }

    [Fact]
    public async Task EmulatedDeployment_ErrorRateAboveOne_FieldError()
    {
        var (gpu, model, _) = await Samples.FleetAsync(Db.Store);
        var emulated = (await Db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "emu") with { Kind = DeploymentKind.Emulated })).Value!;

        var cut = Ctx.Render<DeploymentEditor>(p => p.Add(e => e.Existing, emulated));
        cut.WaitForElement("#emulator-error-rate").Input("3");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("Error rate must be between 0 and 1.", cut.Markup));
    }

    [Fact]
    public async Task SelfHostedDeployment_HasNoEmulatorSettings()
    {
        var (_, _, deployment) = await Samples.FleetAsync(Db.Store);

        var cut = Ctx.Render<DeploymentEditor>(p => p.Add(e => e.Existing, deployment));

        cut.WaitForElement("#deployment-name");
        Assert.Empty(cut.FindAll("[data-testid=emulator-settings]"));
    }
}
