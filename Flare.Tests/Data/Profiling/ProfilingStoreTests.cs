using Flare.Data.Profiling;
using Flare.Routing.Profiles;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Data.Profiling;

/// <summary>The profiling store on a real database (the suite's provider): run lifecycle, resume rules, fit versions.</summary>
public sealed class ProfilingStoreTests
{
    private static ProfileSweepSettings Small => new() { InputLengths = [64], OutputLengths = [8, 16], Concurrency = [1] };

    private static ProfileSampleRecord Sample(int cell, double e2e = 100, bool error = false) =>
        new(cell, new ProfileSample(64, 8, 1, error ? null : 10, error ? null : 12.9, error ? null : e2e, error), null, null, null, error ? "HTTP 503" : null, DateTime.UtcNow);

    [Fact]
    public async Task InterruptAbandonedRuns_RunningAndQueuedBecomeInterrupted_SamplesKept_AndOnlyThoseResume()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var run = (await store.CreateRunAsync(deployment.Id, Small)).Value!;
        Assert.True((await store.BeginRunAsync(run.Id)).IsOk);
        await store.RecordAsync(run.Id, [Sample(0), Sample(0), Sample(1, error: true)], completedCell: 0);

        Assert.Equal(1, await store.InterruptAbandonedRunsAsync());

        var interrupted = (await store.GetRunAsync(run.Id))!;
        Assert.Equal(ProfileRunStatus.Interrupted, interrupted.Status);
        Assert.Equal(3, interrupted.SamplesRecorded);
        Assert.Equal(1, interrupted.ErrorCount);
        Assert.Equal(1, interrupted.CellsDone);
        Assert.True(interrupted.CanResume);
        Assert.Equal(3, (await store.ListSamplesAsync(run.Id)).Count);

        // Resumed, it is queued again and knows which cell is already complete.
        Assert.True((await store.ResumeAsync(run.Id)).IsOk);
        var work = (await store.BeginRunAsync(run.Id)).Value!;
        Assert.Equal([0], work.CompletedCells.Order());

        // A running run cannot be resumed, and a second run of the deployment is refused while it lives.
        Assert.Equal(Flare.Data.Registry.OutcomeKind.Conflict, (await store.ResumeAsync(run.Id)).Kind);
        Assert.Equal(Flare.Data.Registry.OutcomeKind.Conflict, (await store.CreateRunAsync(deployment.Id, Small)).Kind);
        Assert.Equal(Flare.Data.Registry.OutcomeKind.Conflict, (await store.BeginRunAsync(run.Id)).Kind); // a duplicated job does nothing
    }

    [Fact]
    public async Task RecordAsync_SameCellCompletedTwice_CountsItOnce_AndReportsACancelRequest()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var run = (await store.CreateRunAsync(deployment.Id, Small)).Value!;
        await store.BeginRunAsync(run.Id);

        Assert.False(await store.RecordAsync(run.Id, [Sample(0)], completedCell: 0));
        Assert.False(await store.RecordAsync(run.Id, [], completedCell: 0));
        Assert.Equal(1, (await store.GetRunAsync(run.Id))!.CellsDone);

        Assert.True((await store.RequestCancelAsync(run.Id)).IsOk);
        Assert.True(await store.RecordAsync(run.Id, [Sample(1)], completedCell: null));
        var ended = await store.FinishRunAsync(run.Id, ProfileRunStatus.Interrupted, null);
        Assert.Equal(ProfileRunStatus.Cancelled, ended!.Status);
    }

    [Fact]
    public async Task CreateRun_InvalidGrid_ReportsTheFields()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);

        var outcome = await store.CreateRunAsync(deployment.Id, new ProfileSweepSettings { InputLengths = [], Concurrency = [0], RequestsPerCell = 0 });

        Assert.Equal(Flare.Data.Registry.OutcomeKind.Invalid, outcome.Kind);
        Assert.NotNull(outcome.Errors.For(nameof(ProfileSweepSettings.InputLengths)));
        Assert.NotNull(outcome.Errors.For(nameof(ProfileSweepSettings.Concurrency)));
        Assert.NotNull(outcome.Errors.For(nameof(ProfileSweepSettings.RequestsPerCell)));
        Assert.Equal(Flare.Data.Registry.OutcomeKind.NotFound, (await store.CreateRunAsync(9999, Small)).Kind);
    }

    [Fact]
    public async Task SaveFit_EachFitIsANewVersion_OneActive_AndAnOldOneCanBeReactivated()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var good = new CurveFitQuality(30, 0.99, 0.02, 0.03, FitVerdict.Good, null);
        var poor = new CurveFitQuality(30, 0.4, 0.2, 0.31, FitVerdict.Poor, "Cross-validated TTFT MAPE 31.0 % is above the 15 % threshold.");
        ProfileFitView Fit(CurveFitQuality ttft) => new(0, deployment.Id, 0, null, true, default,
            new ProfileFit(new LatencyModel(20, 0.05, 0.001, 1, 8, 0.1, 0.0001), ttft, good, good, 30, 2, 16), 512, 128, 10, 1280, 0.0001, "test");

        var v1 = await store.SaveFitAsync(Fit(good));
        var v2 = await store.SaveFitAsync(Fit(poor));

        Assert.Equal((1, 2), (v1.Version, v2.Version));
        var fits = await store.ListFitsAsync(deployment.Id);
        Assert.Equal(v2.Id, Assert.Single(fits, f => f.IsActive).Id);
        Assert.True(fits.Single(f => f.Version == 2).IsFlagged);
        Assert.Equal(FitVerdict.Poor, fits.Single(f => f.Version == 2).Fit.Ttft.Verdict);
        Assert.Equal(0.31, fits.Single(f => f.Version == 2).Fit.Ttft.CrossValidatedMape);

        Assert.True((await store.ActivateFitAsync(v1.Id)).IsOk);
        Assert.Equal(1, Assert.Single(await store.ListActiveFitsAsync()).Version);
    }

    [Fact]
    public async Task SaveFit_ManyAtOnce_ConsecutiveVersions_AndOneActive()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var good = new CurveFitQuality(30, 0.99, 0.02, 0.03, FitVerdict.Good, null);
        var fit = new ProfileFitView(0, deployment.Id, 0, null, true, default,
            new ProfileFit(new LatencyModel(20, 0.05, 0.001, 1, 8, 0.1, 0.0001), good, good, good, 30, 2, 16), 512, 128, 10, 1280, 0.0001, "test");

        // A profiling run finishing while an operator imports a profile for the same deployment, say.
        var saved = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => store.SaveFitAsync(fit))));

        Assert.Equal([1, 2, 3, 4, 5, 6], saved.Select(f => f.Version).Order());
        var fits = await store.ListFitsAsync(deployment.Id);
        Assert.Equal(6, Assert.Single(fits, f => f.IsActive).Version);
    }

    [Fact]
    public async Task SaveFit_WithAndWithoutPrefillBudget_ReadsBackTheSameModel()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var good = new CurveFitQuality(30, 0.99, 0.02, 0.03, FitVerdict.Good, null);
        var uncapped = new LatencyModel(20, 0.05, 0.001, 1, 8, 0.1, 0.0001);
        var capped = uncapped with { TtftPrefillTokensPerStep = 8192 };
        ProfileFitView Fit(LatencyModel model) => new(0, deployment.Id, 0, null, true, default,
            new ProfileFit(model, good, good, good, 30, 2, 16), 512, 128, 10, 1280, 0.0001, "test");

        await store.SaveFitAsync(Fit(uncapped));
        await store.SaveFitAsync(Fit(capped));

        var fits = await store.ListFitsAsync(deployment.Id);
        // A seven-coefficient fit (the column null, as every fit stored before it existed) reads back without a cap.
        Assert.Equal(uncapped, fits.Single(f => f.Version == 1).Fit.Model);
        Assert.Null(fits.Single(f => f.Version == 1).Fit.Model.TtftPrefillTokensPerStep);
        Assert.Equal(capped, fits.Single(f => f.Version == 2).Fit.Model);
    }

    [Fact]
    public async Task FitStoredBeforeTheSteepnessColumn_ReadsWithTheSteepnessItWasFittedWith()
    {
        await using var db = await TestDatabase.CreateAsync();
        var ct = TestContext.Current.CancellationToken;
        var store = db.Services.GetRequiredService<ProfilingStore>();
        var (_, _, deployment) = await Samples.FleetAsync(db.Store);
        var good = new CurveFitQuality(30, 0.99, 0.02, 0.03, FitVerdict.Good, null);
        var model = new LatencyModel(20, 0.05, 0.001, 1, 8, 0.1, 0.0001, 8192);
        await store.SaveFitAsync(new ProfileFitView(0, deployment.Id, 0, null, true, default,
            new ProfileFit(model, good, good, good, 30, 2, 16), 512, 128, 10, 1280, 0.0001, "test"), ct);
        Assert.Equal(LatencyModel.SwitchSteepness, Assert.Single(await store.ListFitsAsync(deployment.Id, ct)).Fit.Model.PrefillShareSteepness);

        // Back to the schema before the column, then forward again, as an existing database is upgraded.
        await using (var ctx = await db.CreateContextAsync())
        {
            var migrations = ctx.Database.GetMigrations().ToList();
            var added = migrations.FindIndex(m => m.EndsWith("_PrefillShareSteepness", StringComparison.Ordinal));
            var migrator = ctx.GetService<IMigrator>();
            await migrator.MigrateAsync(migrations[added - 1], ct);
            await migrator.MigrateAsync(null, ct);
        }

        var upgraded = Assert.Single(await store.ListFitsAsync(deployment.Id, ct)).Fit.Model;
        Assert.Equal(model with { PrefillShareSteepness = LatencyModel.EarlierSwitchSteepness }, upgraded);
    }
}
