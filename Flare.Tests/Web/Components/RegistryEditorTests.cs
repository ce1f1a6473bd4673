using Bunit;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Flare.Web.Components.Registry;
using Microsoft.AspNetCore.Components;

namespace Flare.Tests.Web.Components;

public sealed class RegistryEditorTests : ComponentTestBase
{
    [Fact]
    public async Task GpuTypeEditor_NegativeMemory_ErrorUnderTheFieldAndNothingSaved()
    {
        bool? done = null;
        var cut = Ctx.Render<GpuTypeEditor>(p => p.Add(e => e.OnDone, EventCallback.Factory.Create<bool>(this, saved => done = saved)));

        cut.Find("#gpu-name").Input("B200-192GB");
        cut.Find("#gpu-memory").Input("-192");
        cut.Find("#gpu-tflops").Input("2250");
        cut.Find("#gpu-bandwidth").Input("8000");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("Memory must be greater than 0.", cut.Markup));
        var memoryField = cut.Find("#gpu-memory").Closest(".mud-input-control")!;
        Assert.Contains("Memory must be greater than 0.", memoryField.TextContent);
        Assert.Null(done);
        Assert.Empty(await Db.Store.ListGpuTypesAsync());
    }

    [Fact]
    public async Task GpuTypeEditor_ValidInput_SavesAndReportsDone()
    {
        bool? done = null;
        var cut = Ctx.Render<GpuTypeEditor>(p => p.Add(e => e.OnDone, EventCallback.Factory.Create<bool>(this, saved => done = saved)));

        cut.Find("#gpu-name").Input("L40S-48GB");
        cut.Find("#gpu-memory").Input("48");
        cut.Find("#gpu-price").Input("0.99");
        cut.Find("#gpu-tflops").Input("362");
        cut.Find("#gpu-bandwidth").Input("864");
        cut.Find("#gpu-pool").Input("3");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.True(done));
        var saved = Assert.Single(await Db.Store.ListGpuTypesAsync());
        Assert.Equal(("L40S-48GB", 48.0, 3), (saved.Name, saved.MemoryGiB, saved.PoolCount));
    }

    [Fact]
    public async Task GpuTypeEditor_DuplicateName_BannerAndErrorOnName()
    {
        await Db.Store.CreateGpuTypeAsync(Samples.A100);
        var cut = Ctx.Render<GpuTypeEditor>();

        cut.Find("#gpu-name").Input(Samples.A100.Name);
        cut.Find("#gpu-memory").Input("80");
        cut.Find("#gpu-tflops").Input("312");
        cut.Find("#gpu-bandwidth").Input("2039");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("already exists", cut.Find("[data-testid=editor-banner]").TextContent));
        Assert.Single(await Db.Store.ListGpuTypesAsync());
    }

    [Fact]
    public async Task ModelEditor_EditExisting_PrefillsAndUpdates()
    {
        var model = (await Db.Store.CreateModelAsync(Samples.Llama8B)).Value!;
        var cut = Ctx.Render<ModelEditor>(p => p.Add(e => e.Existing, model));

        Assert.Equal(model.Name, cut.Find("#model-name").GetAttribute("value"));
        cut.Find("#model-tags").Input("chat, fast , small");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(async () => Assert.Equal(["chat", "fast", "small"], (await Db.Store.GetModelAsync(model.Id)).Value!.Tags));
    }

    [Fact]
    public async Task DeploymentEditor_ModelTooBigForItsGpus_ShowsTheMemoryWarning()
    {
        var gpu = (await Db.Store.CreateGpuTypeAsync(Samples.L4)).Value!;
        var model = (await Db.Store.CreateModelAsync(Samples.Llama70B)).Value!;
        var deployment = (await Db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "big@l4"))).Value!;

        var cut = Ctx.Render<DeploymentEditor>(p => p.Add(e => e.Existing, deployment));

        cut.WaitForAssertion(() => Assert.Contains("131.5 GiB", cut.Find("[data-testid=memory-warning]").TextContent));
        Assert.Contains("24 GiB", cut.Find("[data-testid=memory-warning]").TextContent);
    }

    [Fact]
    public void DeploymentEditor_NoModelsYet_SaysToRegisterAModelFirst()
    {
        var cut = Ctx.Render<DeploymentEditor>();

        cut.WaitForAssertion(() => Assert.Contains("Register a model", cut.Markup));
    }

    [Fact]
    public async Task DeploymentEditor_SaveWithoutModel_ErrorOnModelField()
    {
        await Db.Store.CreateGpuTypeAsync(Samples.A100);
        var cut = Ctx.Render<DeploymentEditor>();

        // Typed once the editor has loaded the registry (it then says there is no model to serve), not into the form it
        // re-renders when the load completes.
        cut.WaitForAssertion(() => Assert.Contains("Register a model", cut.Markup));
        cut.Find("#deployment-name").Input("orphan");
        cut.Find("#deployment-url").Input("http://10.0.0.9:8000/v1");
        await cut.Find("[data-testid=save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("Choose the model this deployment serves.", cut.Markup));
        Assert.Empty(await Db.Store.ListDeploymentsAsync());
    }

    [Fact]
    public async Task DeploymentEditor_StoredKey_ShowsOnlyItsHint()
    {
        var (_, _, deployment) = await Samples.FleetAsync(Db.Store);
        deployment = (await Db.Store.UpdateDeploymentAsync(deployment.Id,
            Samples.SelfHosted(deployment.ModelId, deployment.GpuTypeId!.Value) with { ApiKey = "sk-very-secret-key-9876" })).Value!;

        var cut = Ctx.Render<DeploymentEditor>(p => p.Add(e => e.Existing, deployment));

        cut.WaitForAssertion(() => Assert.Contains("••••9876", cut.Markup));
        Assert.DoesNotContain("sk-very-secret", cut.Markup);
        Assert.Equal("", cut.Find("#deployment-key").GetAttribute("value") ?? "");
    }
}
