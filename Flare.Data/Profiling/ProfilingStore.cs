using System.Text.Json;
using System.Text.Json.Serialization;
using Flare.Data.Registry;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data.Profiling;

/// <summary>What changed in profiling: a run's progress or status, or a deployment's fits.</summary>
public sealed record ProfilingChange(int DeploymentId, int? RunId, bool FitsChanged);

/// <summary>Raised after every profiling write, so pages update without a reload and the profile snapshot is republished.</summary>
public sealed class ProfilingChangeSignal
{
    public event Action<ProfilingChange>? Changed;

    public void Raise(ProfilingChange change) => Changed?.Invoke(change);
}

/// <summary>
/// Profiling runs, their samples, fitted versions and schedules in the database: the one gateway the job, the
/// UI and <c>/api</c> use. Expected failures are <see cref="Outcome{T}"/> values.
/// </summary>
public sealed class ProfilingStore(IDbContextFactory<FlareDbContext> dbFactory, ProfilingChangeSignal changes, TimeProvider time)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- runs

    /// <summary>Queues a sweep of a deployment. Refused while another run of it is queued or running.</summary>
    public async Task<Outcome<ProfileRunView>> CreateRunAsync(int deploymentId, ProfileSweepSettings settings, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = settings.Validate();
        if (!errors.IsEmpty)
        {
            return Outcome<ProfileRunView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deployment = await db.Deployments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == deploymentId, ct);
        if (deployment is null)
        {
            return Outcome<ProfileRunView>.NotFound($"Deployment {deploymentId} does not exist.");
        }

        if (await LiveRunAsync(db, deploymentId, ct) is { } live)
        {
            return Outcome<ProfileRunView>.Conflict($"Run {live} of deployment '{deployment.Name}' is still queued or running; cancel it or wait for it to end.");
        }

        var now = Now;
        var row = new ProfileRunEntity
        {
            DeploymentId = deploymentId,
            Source = ProfileRunSource.Sweep,
            Status = ProfileRunStatus.Queued,
            Settings = JsonSerializer.Serialize(settings, Json),
            CellsTotal = settings.Cells().Count,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        db.ProfileRuns.Add(row);
        await db.SaveChangesAsync(ct);
        Raise(row);
        return Outcome<ProfileRunView>.Ok(ToView(row, deployment.Name));
    }

    /// <summary>A new run with the same settings as <paramref name="runId"/>.</summary>
    public async Task<Outcome<ProfileRunView>> RerunAsync(int runId, CancellationToken ct = default)
    {
        var run = await GetRunAsync(runId, ct);
        return run is null
            ? Outcome<ProfileRunView>.NotFound($"Profiling run {runId} does not exist.")
            : run.Source != ProfileRunSource.Sweep
                ? Outcome<ProfileRunView>.Conflict($"Run {runId} is an import; there is no sweep to run again.")
                : await CreateRunAsync(run.DeploymentId, run.Settings, ct);
    }

    /// <summary>Queues a stopped run again; the runner then skips the cells already complete.</summary>
    public async Task<Outcome<ProfileRunView>> ResumeAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.Include(r => r.Deployment).SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (row is null)
        {
            return Outcome<ProfileRunView>.NotFound($"Profiling run {runId} does not exist.");
        }

        var view = ToView(row, row.Deployment!.Name);
        if (!view.CanResume)
        {
            return Outcome<ProfileRunView>.Conflict($"Run {runId} is {row.Status}; only a cancelled, interrupted, failed or timed-out sweep can be resumed.");
        }

        if (await LiveRunAsync(db, row.DeploymentId, ct) is { } live)
        {
            return Outcome<ProfileRunView>.Conflict($"Run {live} of deployment '{row.Deployment.Name}' is still queued or running.");
        }

        row.Status = ProfileRunStatus.Queued;
        row.CancelRequested = false;
        row.FinishedUtc = null;
        row.Message = $"Resumed at {Now:u}; cells already complete are skipped.";
        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        Raise(row);
        return Outcome<ProfileRunView>.Ok(ToView(row, row.Deployment.Name));
    }

    public async Task SetJobIdAsync(int runId, string jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.ProfileRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
    }

    /// <summary>
    /// Marks a queued run as running and returns what to measure; anything else (already running elsewhere,
    /// finished, cancelled while queued) is a conflict, so a job that runs twice does nothing the second time.
    /// </summary>
    public async Task<Outcome<ProfileRunWork>> BeginRunAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (row is null)
        {
            return Outcome<ProfileRunWork>.NotFound($"Profiling run {runId} does not exist.");
        }

        if (row.Status != ProfileRunStatus.Queued)
        {
            return Outcome<ProfileRunWork>.Conflict($"Run {runId} is {row.Status}, not queued.");
        }

        var target = await LoadTargetAsync(db, row.DeploymentId, ct);
        if (target is null)
        {
            return Outcome<ProfileRunWork>.NotFound($"Deployment {row.DeploymentId} of run {runId} does not exist.");
        }

        row.Status = ProfileRunStatus.Running;
        row.StartedUtc ??= Now;
        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        var done = await db.ProfileCells.Where(c => c.RunId == runId).Select(c => c.CellIndex).ToListAsync(ct);
        Raise(row);
        return Outcome<ProfileRunWork>.Ok(new ProfileRunWork(ToView(row, target.Name), target, done.ToHashSet()));
    }

    /// <summary>
    /// Writes a batch of samples, and marks <paramref name="completedCell"/> complete in the same transaction
    /// (so a resumed run never skips a cell whose samples are not all stored). Returns true when a cancel has
    /// been requested.
    /// </summary>
    public async Task<bool> RecordAsync(int runId, IReadOnlyList<ProfileSampleRecord> samples, int? completedCell, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.SingleAsync(r => r.Id == runId, ct);
        foreach (var s in samples)
        {
            db.ProfileSamples.Add(ToEntity(runId, s));
        }

        row.SamplesRecorded += samples.Count;
        row.ErrorCount += samples.Count(s => s.Sample.IsError);
        if (completedCell is { } cell && !await db.ProfileCells.AnyAsync(c => c.RunId == runId && c.CellIndex == cell, ct))
        {
            db.ProfileCells.Add(new ProfileCellEntity { RunId = runId, CellIndex = cell, CompletedUtc = Now });
            row.CellsDone++;
        }

        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        Raise(row);
        return row.CancelRequested;
    }

    /// <summary>Ends a running run with <paramref name="status"/> (a cancel request turns any ending into Cancelled).</summary>
    public async Task<ProfileRunView?> FinishRunAsync(int runId, ProfileRunStatus status, string? message, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.Include(r => r.Deployment).SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (row is null)
        {
            return null;
        }

        if (row.CancelRequested && status != ProfileRunStatus.Completed)
        {
            status = ProfileRunStatus.Cancelled;
            message ??= "Cancelled by an operator.";
        }

        row.Status = status;
        row.Message = message;
        row.FinishedUtc = Now;
        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        Raise(row);
        return ToView(row, row.Deployment!.Name);
    }

    /// <summary>Asks a run to stop. A queued run is cancelled at once; a running one stops at its runner's next check.</summary>
    public async Task<Outcome<ProfileRunView>> RequestCancelAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.Include(r => r.Deployment).SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (row is null)
        {
            return Outcome<ProfileRunView>.NotFound($"Profiling run {runId} does not exist.");
        }

        if (row.Status is not (ProfileRunStatus.Queued or ProfileRunStatus.Running))
        {
            return Outcome<ProfileRunView>.Conflict($"Run {runId} is {row.Status}; only a queued or running run can be cancelled.");
        }

        row.CancelRequested = true;
        if (row.Status == ProfileRunStatus.Queued)
        {
            row.Status = ProfileRunStatus.Cancelled;
            row.Message = "Cancelled before it started.";
            row.FinishedUtc = Now;
        }

        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        Raise(row);
        return Outcome<ProfileRunView>.Ok(ToView(row, row.Deployment!.Name));
    }

    /// <summary>
    /// At start-up: runs still marked queued or running belonged to a process that is gone (Hangfire's storage
    /// is in memory), so they become <see cref="ProfileRunStatus.Interrupted"/>, samples kept. Returns how many.
    /// </summary>
    public async Task<int> InterruptAbandonedRunsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProfileRuns.Where(r => r.Status == ProfileRunStatus.Running || r.Status == ProfileRunStatus.Queued).ToListAsync(ct);
        foreach (var row in rows)
        {
            row.Message = $"Interrupted: Flare stopped while the run was {row.Status.ToString().ToLowerInvariant()} " +
                $"({row.CellsDone} of {row.CellsTotal} cells, {row.SamplesRecorded} samples kept). Resume it to measure the rest.";
            row.Status = ProfileRunStatus.Interrupted;
            row.FinishedUtc = Now;
            row.UpdatedUtc = Now;
        }

        await db.SaveChangesAsync(ct);
        foreach (var row in rows)
        {
            Raise(row);
        }

        return rows.Count;
    }

    public async Task<ProfileRunView?> GetRunAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileRuns.AsNoTracking().Include(r => r.Deployment).SingleOrDefaultAsync(r => r.Id == runId, ct);
        return row is null ? null : ToView(row, row.Deployment!.Name);
    }

    /// <summary>A deployment's runs, newest first.</summary>
    public async Task<IReadOnlyList<ProfileRunView>> ListRunsAsync(int deploymentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProfileRuns.AsNoTracking().Include(r => r.Deployment)
            .Where(r => r.DeploymentId == deploymentId).OrderByDescending(r => r.Id).ToListAsync(ct);
        return rows.Select(r => ToView(r, r.Deployment!.Name)).ToList();
    }

    /// <summary>The samples of a run in recording order.</summary>
    public async Task<IReadOnlyList<ProfileSampleView>> ListSamplesAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProfileSamples.AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Id).ToListAsync(ct);
        return rows.Select(s => new ProfileSampleView(
            s.CellIndex,
            new ProfileSample(s.InputTokens, s.OutputTokens, s.Concurrency, s.TtftMs, s.TpotMs, s.E2eMs, s.IsError, s.RequestRatePerSecond),
            s.ItlP50Ms, s.ItlP95Ms, s.ItlMaxMs, s.Error, s.StartedUtc)).ToList();
    }

    public async Task<ProfileTarget?> GetTargetAsync(int deploymentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await LoadTargetAsync(db, deploymentId, ct);
    }

    /// <summary>Stores imported samples as a completed run of the deployment.</summary>
    public async Task<Outcome<ProfileRunView>> ImportAsync(int deploymentId, IReadOnlyList<ProfileSample> samples, string message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deployment = await db.Deployments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == deploymentId, ct);
        if (deployment is null)
        {
            return Outcome<ProfileRunView>.NotFound($"Deployment {deploymentId} does not exist.");
        }

        if (samples.Count == 0)
        {
            return Outcome<ProfileRunView>.Invalid("file", "The file has no usable rows. " + message);
        }

        var now = Now;
        var row = new ProfileRunEntity
        {
            DeploymentId = deploymentId,
            Source = ProfileRunSource.Import,
            Status = ProfileRunStatus.Completed,
            Settings = JsonSerializer.Serialize(new ProfileSweepSettings(), Json),
            SamplesRecorded = samples.Count,
            ErrorCount = samples.Count(s => s.IsError),
            Message = message,
            CreatedUtc = now,
            StartedUtc = now,
            FinishedUtc = now,
            UpdatedUtc = now,
        };
        db.ProfileRuns.Add(row);
        await db.SaveChangesAsync(ct);
        db.ProfileSamples.AddRange(samples.Select(s => ToEntity(row.Id, new ProfileSampleRecord(0, s, null, null, null, null, now))));
        await db.SaveChangesAsync(ct);
        Raise(row);
        return Outcome<ProfileRunView>.Ok(ToView(row, deployment.Name));
    }

    // ---------------------------------------------------------------- fits

    /// <summary>Stores a fit as the deployment's next version and makes it the active one.</summary>
    public async Task<ProfileFitView> SaveFitAsync(ProfileFitView fit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(fit);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginSerializedTransactionAsync("profile-fits", ct);
        var version = 1 + (await db.ProfileFits.Where(f => f.DeploymentId == fit.DeploymentId).MaxAsync(f => (int?)f.Version, ct) ?? 0);
        await db.ProfileFits.Where(f => f.DeploymentId == fit.DeploymentId && f.IsActive)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.IsActive, false), ct);
        var m = fit.Fit.Model;
        var row = new ProfileFitEntity
        {
            DeploymentId = fit.DeploymentId,
            Version = version,
            RunId = fit.RunId,
            IsActive = true,
            CreatedUtc = Now,
            TtftBaseMs = m.TtftBaseMs,
            TtftPerInputTokenMs = m.TtftPerInputTokenMs,
            TtftPerQueuedInputTokenMs = m.TtftPerQueuedInputTokenMs,
            TtftPerQueuedRequestMs = m.TtftPerQueuedRequestMs,
            TpotBaseMs = m.TpotBaseMs,
            TpotPerRequestMs = m.TpotPerRequestMs,
            TpotPerContextTokenMs = m.TpotPerContextTokenMs,
            TtftPrefillTokensPerStep = m.TtftPrefillTokensPerStep,
            PrefillShareSteepness = m.PrefillShareSteepness,
            Quality = JsonSerializer.Serialize(new FitQuality(fit.Fit.Ttft, fit.Fit.Tpot, fit.Fit.E2e), Json),
            TtftCvMape = fit.Fit.Ttft.CrossValidatedMape,
            TpotCvMape = fit.Fit.Tpot.CrossValidatedMape,
            E2eCvMape = fit.Fit.E2e.CrossValidatedMape,
            IsFlagged = fit.IsFlagged,
            SamplesUsed = fit.Fit.SamplesUsed,
            ErrorSamples = fit.Fit.ErrorSamples,
            MaxConcurrency = fit.Fit.MaxConcurrency,
            ReferenceInputTokens = fit.ReferenceInputTokens,
            ReferenceOutputTokens = fit.ReferenceOutputTokens,
            SaturationRequestsPerSecond = Finite(fit.SaturationRequestsPerSecond),
            SaturationOutputTokensPerSecond = Finite(fit.SaturationOutputTokensPerSecond),
            CostPerRequestUsd = Finite(fit.CostPerRequestUsd),
            CostBasis = fit.CostBasis,
        };
        db.ProfileFits.Add(row);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        changes.Raise(new ProfilingChange(fit.DeploymentId, fit.RunId, FitsChanged: true));
        return ToView(row);
    }

    /// <summary>Makes an earlier version the active one (roll back a fit).</summary>
    public async Task<Outcome<ProfileFitView>> ActivateFitAsync(int fitId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileFits.SingleOrDefaultAsync(f => f.Id == fitId, ct);
        if (row is null)
        {
            return Outcome<ProfileFitView>.NotFound($"Profile fit {fitId} does not exist.");
        }

        await db.ProfileFits.Where(f => f.DeploymentId == row.DeploymentId && f.Id != fitId && f.IsActive)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.IsActive, false), ct);
        row.IsActive = true;
        await db.SaveChangesAsync(ct);
        changes.Raise(new ProfilingChange(row.DeploymentId, row.RunId, FitsChanged: true));
        return Outcome<ProfileFitView>.Ok(ToView(row));
    }

    /// <summary>A deployment's fitted versions, newest first.</summary>
    public async Task<IReadOnlyList<ProfileFitView>> ListFitsAsync(int deploymentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProfileFits.AsNoTracking().Where(f => f.DeploymentId == deploymentId).OrderByDescending(f => f.Version).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    /// <summary>Every deployment's active fit: what the profile snapshot is built from.</summary>
    public async Task<IReadOnlyList<ProfileFitView>> ListActiveFitsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProfileFits.AsNoTracking().Where(f => f.IsActive).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    // ---------------------------------------------------------------- schedules

    public async Task<Outcome<ProfileScheduleView>> SetScheduleAsync(int deploymentId, string cron, ProfileSweepSettings settings, CancellationToken ct = default)
    {
        var errors = settings.Validate();
        if (string.IsNullOrWhiteSpace(cron))
        {
            errors.Add("Cron", "Give a cron expression, e.g. '0 3 * * *' for 03:00 UTC every day.");
        }

        if (!errors.IsEmpty)
        {
            return Outcome<ProfileScheduleView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Deployments.AnyAsync(d => d.Id == deploymentId, ct))
        {
            return Outcome<ProfileScheduleView>.NotFound($"Deployment {deploymentId} does not exist.");
        }

        var row = await db.ProfileSchedules.SingleOrDefaultAsync(s => s.DeploymentId == deploymentId, ct);
        if (row is null)
        {
            row = new ProfileScheduleEntity { DeploymentId = deploymentId };
            db.ProfileSchedules.Add(row);
        }

        row.Cron = cron.Trim();
        row.Settings = JsonSerializer.Serialize(settings, Json);
        row.UpdatedUtc = Now;
        await db.SaveChangesAsync(ct);
        return Outcome<ProfileScheduleView>.Ok(ToView(row));
    }

    public async Task<Outcome<bool>> RemoveScheduleAsync(int deploymentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var removed = await db.ProfileSchedules.Where(s => s.DeploymentId == deploymentId).ExecuteDeleteAsync(ct);
        return removed == 0 ? Outcome<bool>.NotFound($"Deployment {deploymentId} has no profiling schedule.") : Outcome<bool>.Ok(true);
    }

    public async Task<ProfileScheduleView?> GetScheduleAsync(int deploymentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ProfileSchedules.AsNoTracking().SingleOrDefaultAsync(s => s.DeploymentId == deploymentId, ct);
        return row is null ? null : ToView(row);
    }

    public async Task<IReadOnlyList<ProfileScheduleView>> ListSchedulesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await db.ProfileSchedules.AsNoTracking().ToListAsync(ct)).Select(ToView).ToList();
    }

    // ---------------------------------------------------------------- mapping

    private sealed record FitQuality(CurveFitQuality Ttft, CurveFitQuality Tpot, CurveFitQuality E2e);

    private static async Task<int?> LiveRunAsync(FlareDbContext db, int deploymentId, CancellationToken ct) =>
        await db.ProfileRuns.Where(r => r.DeploymentId == deploymentId && (r.Status == ProfileRunStatus.Queued || r.Status == ProfileRunStatus.Running))
            .Select(r => (int?)r.Id).FirstOrDefaultAsync(ct);

    private static async Task<ProfileTarget?> LoadTargetAsync(FlareDbContext db, int deploymentId, CancellationToken ct)
    {
        var d = await db.Deployments.AsNoTracking().Include(x => x.Model).Include(x => x.GpuType).SingleOrDefaultAsync(x => x.Id == deploymentId, ct);
        return d is null
            ? null
            : new ProfileTarget(d.Id, d.Name, d.Kind, d.BaseUrl, d.ServedModelName, d.ApiKey,
                d.Model?.InputPricePerMTokUsd, d.Model?.OutputPricePerMTokUsd, d.GpuType?.PricePerHourUsd ?? 0, d.GpuCount);
    }

    private void Raise(ProfileRunEntity row) => changes.Raise(new ProfilingChange(row.DeploymentId, row.Id, FitsChanged: false));

    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? x : null;

    private static ProfileSampleEntity ToEntity(int runId, ProfileSampleRecord s) => new()
    {
        RunId = runId,
        CellIndex = s.CellIndex,
        InputTokens = s.Sample.InputTokens,
        OutputTokens = s.Sample.OutputTokens,
        Concurrency = s.Sample.Concurrency,
        RequestRatePerSecond = s.Sample.RequestRatePerSecond,
        TtftMs = s.Sample.TtftMs,
        TpotMs = s.Sample.TpotMs,
        E2eMs = s.Sample.E2eMs,
        ItlP50Ms = s.ItlP50Ms,
        ItlP95Ms = s.ItlP95Ms,
        ItlMaxMs = s.ItlMaxMs,
        IsError = s.Sample.IsError,
        Error = s.Error is { Length: > 1000 } e ? e[..1000] : s.Error,
        StartedUtc = s.StartedUtc,
    };

    internal static ProfileRunView ToView(ProfileRunEntity r, string deploymentName) => new(
        r.Id, r.DeploymentId, deploymentName, r.Source, r.Status,
        JsonSerializer.Deserialize<ProfileSweepSettings>(r.Settings, Json) ?? new ProfileSweepSettings(),
        r.CellsTotal, r.CellsDone, r.SamplesRecorded, r.ErrorCount, r.CancelRequested, r.Message,
        r.CreatedUtc, r.StartedUtc, r.FinishedUtc);

    private static ProfileFitView ToView(ProfileFitEntity f)
    {
        var q = JsonSerializer.Deserialize<FitQuality>(f.Quality, Json)!;
        var model = new LatencyModel(f.TtftBaseMs, f.TtftPerInputTokenMs, f.TtftPerQueuedInputTokenMs, f.TtftPerQueuedRequestMs,
            f.TpotBaseMs, f.TpotPerRequestMs, f.TpotPerContextTokenMs, f.TtftPrefillTokensPerStep, f.PrefillShareSteepness);
        return new ProfileFitView(f.Id, f.DeploymentId, f.Version, f.RunId, f.IsActive, f.CreatedUtc,
            new ProfileFit(model, q.Ttft, q.Tpot, q.E2e, f.SamplesUsed, f.ErrorSamples, f.MaxConcurrency),
            f.ReferenceInputTokens, f.ReferenceOutputTokens, f.SaturationRequestsPerSecond, f.SaturationOutputTokensPerSecond,
            f.CostPerRequestUsd, f.CostBasis);
    }

    private static ProfileScheduleView ToView(ProfileScheduleEntity s) =>
        new(s.DeploymentId, s.Cron, JsonSerializer.Deserialize<ProfileSweepSettings>(s.Settings, Json) ?? new ProfileSweepSettings(), s.UpdatedUtc);
}
