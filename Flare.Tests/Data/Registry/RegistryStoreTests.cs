using Flare.Data.Registry;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace Flare.Tests.Data.Registry;

public sealed class RegistryStoreTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task CreateGpuType_DuplicateName_Conflict()
    {
        Assert.True((await _db.Store.CreateGpuTypeAsync(Samples.A100)).IsOk);

        var second = await _db.Store.CreateGpuTypeAsync(Samples.A100 with { MemoryGiB = 40 });

        Assert.Equal(OutcomeKind.Conflict, second.Kind);
        Assert.NotNull(second.Errors.For("Name"));
        Assert.Single(await _db.Store.ListGpuTypesAsync());
    }

    [Fact]
    public async Task SetPoolCount_Negative_InvalidAndUnchanged()
    {
        var gpu = (await _db.Store.CreateGpuTypeAsync(Samples.A100)).Value!;

        var outcome = await _db.Store.SetPoolCountAsync(gpu.Id, -3);

        Assert.Equal(OutcomeKind.Invalid, outcome.Kind);
        Assert.Equal(4, (await _db.Store.GetGpuTypeAsync(gpu.Id)).Value!.PoolCount);
    }

    [Fact]
    public async Task CreateDeployment_ModelDoesNotExist_InvalidOnModelIdAndNothingStored()
    {
        var gpu = (await _db.Store.CreateGpuTypeAsync(Samples.A100)).Value!;

        var outcome = await _db.Store.CreateDeploymentAsync(Samples.SelfHosted(modelId: 999, gpu.Id));

        Assert.Equal(OutcomeKind.Invalid, outcome.Kind);
        Assert.Contains("does not exist", outcome.Errors.For("ModelId"));
        Assert.Empty(await _db.Store.ListDeploymentsAsync());
    }

    [Fact]
    public async Task DeleteModel_WithDeployments_ConflictNamingThem()
    {
        var (_, model, deployment) = await Samples.FleetAsync(_db.Store);

        var outcome = await _db.Store.DeleteModelAsync(model.Id);

        Assert.Equal(OutcomeKind.Conflict, outcome.Kind);
        Assert.Contains(deployment.Name, outcome.Message);
        Assert.True((await _db.Store.GetModelAsync(model.Id)).IsOk);
    }

    [Fact]
    public async Task DeleteModel_AfterItsDeploymentIsDeleted_Succeeds()
    {
        var (_, model, deployment) = await Samples.FleetAsync(_db.Store);

        Assert.True((await _db.Store.DeleteDeploymentAsync(deployment.Id)).IsOk);
        Assert.True((await _db.Store.DeleteModelAsync(model.Id)).IsOk);
        Assert.Equal(OutcomeKind.NotFound, (await _db.Store.GetModelAsync(model.Id)).Kind);
    }

    [Fact]
    public async Task DeleteGpuType_UsedByDeployment_Conflict()
    {
        var (gpu, _, _) = await Samples.FleetAsync(_db.Store);

        Assert.Equal(OutcomeKind.Conflict, (await _db.Store.DeleteGpuTypeAsync(gpu.Id)).Kind);
    }

    [Fact]
    public async Task CreateDeployment_WeightsDoNotFit_SavedWithWarningGivingNumbers()
    {
        var gpu = (await _db.Store.CreateGpuTypeAsync(Samples.L4)).Value!;
        var model = (await _db.Store.CreateModelAsync(Samples.Llama70B)).Value!;

        var outcome = await _db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "llama-70b@l4x2", gpus: 2));

        Assert.True(outcome.IsOk);
        var warning = Assert.Single(outcome.Warnings);
        Assert.Contains("131.5 GiB", warning);
        Assert.Contains("48 GiB", warning);
        Assert.Equal(warning, Assert.Single((await _db.Store.GetDeploymentAsync(outcome.Value!.Id)).Value!.Warnings));
    }

    [Fact]
    public async Task Deployment_ApiKey_StoredButOnlyHintShown()
    {
        var (_, _, deployment) = await Samples.FleetAsync(_db.Store);
        const string key = "sk-live-0123456789abcdef";
        var input = Samples.SelfHosted(deployment.ModelId, deployment.GpuTypeId!.Value) with { ApiKey = key };

        var view = (await _db.Store.UpdateDeploymentAsync(deployment.Id, input)).Value!;

        Assert.True(view.HasApiKey);
        Assert.Equal("••••cdef", view.ApiKeyHint);
        Assert.DoesNotContain(key, System.Text.Json.JsonSerializer.Serialize(view));
        await using var ctx = await _db.CreateContextAsync();
        Assert.Equal(key, (await ctx.Deployments.SingleAsync(TestContext.Current.CancellationToken)).ApiKey);
    }

    [Fact]
    public async Task UpdateDeployment_NullKeyKeeps_EmptyKeyRemoves()
    {
        var (_, _, deployment) = await Samples.FleetAsync(_db.Store);
        var input = Samples.SelfHosted(deployment.ModelId, deployment.GpuTypeId!.Value);
        await _db.Store.UpdateDeploymentAsync(deployment.Id, input with { ApiKey = "sk-0123456789abcdef" });

        Assert.True((await _db.Store.UpdateDeploymentAsync(deployment.Id, input with { ApiKey = null })).Value!.HasApiKey);
        Assert.False((await _db.Store.UpdateDeploymentAsync(deployment.Id, input with { ApiKey = "" })).Value!.HasApiKey);
    }

    [Fact]
    public async Task Changes_EveryCommittedEditRaisesTheSignal_RefusedOnesDoNot()
    {
        var before = _db.Changes.Version;
        await _db.Store.CreateGpuTypeAsync(Samples.A100);
        await _db.Store.CreateGpuTypeAsync(Samples.A100); // conflict: not committed

        Assert.Equal(before + 1, _db.Changes.Version);
    }

    [Fact]
    public async Task GpuUsage_CountsEnabledDeploymentsGpus()
    {
        var (gpu, model, _) = await Samples.FleetAsync(_db.Store);
        await _db.Store.CreateDeploymentAsync(Samples.SelfHosted(model.Id, gpu.Id, "second", gpus: 2) with { Enabled = false });

        var view = (await _db.Store.GetGpuTypeAsync(gpu.Id)).Value!;

        Assert.Equal(2, view.DeploymentCount);
        Assert.Equal(1, view.GpusInUse);
    }
}
