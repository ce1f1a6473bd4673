using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Routing.Profiles;
using Hangfire;
using Microsoft.Extensions.Options;

namespace Flare.Web.Profiling;

/// <summary>What a CSV import read and made of it.</summary>
/// <param name="Run">The run the samples were stored as.</param>
/// <param name="Fit">The fitted version, or null when the samples could not be fitted (<paramref name="FitFailure"/> says why).</param>
/// <param name="Issues">Malformed and excluded rows, with line numbers.</param>
/// <param name="Configurations">LLM-Inference-Bench: the configurations the imported rows are from.</param>
public sealed record ProfileImportResult(
    ProfileRunView Run, ProfileFitView? Fit, string? FitFailure, IReadOnlyList<CsvRowIssue> Issues, IReadOnlyList<string> Configurations);

/// <summary>The CSV layouts an import reads.</summary>
public static class ProfileCsvLayouts
{
    /// <summary>Flare's generic layout (<see cref="GenericProfileCsv"/>).</summary>
    public const string Generic = "generic";

    /// <summary>LLM-Inference-Bench's All_results.csv (<see cref="LlmInferenceBenchCsv"/>).</summary>
    public const string LlmInferenceBench = "llm-inference-bench";
}

/// <summary>
/// What the UI and <c>/api</c> do with profiling: start a run (queued as a Hangfire job), cancel, resume and
/// re-run it, fit a run, import a CSV, and keep a deployment's recurring schedule.
/// </summary>
public sealed class ProfilingService(
    ProfilingStore store,
    ProfileFitting fitting,
    LiveRuns live,
    IBackgroundJobClient jobs,
    IRecurringJobManager recurring,
    IOptions<ProfilingOptions> options)
{
    /// <summary>The settings a run gets when none are given.</summary>
    public ProfileSweepSettings DefaultSettings => options.Value.DefaultSettings();

    public async Task<Outcome<ProfileRunView>> StartAsync(int deploymentId, ProfileSweepSettings? settings, CancellationToken ct = default)
    {
        var run = await store.CreateRunAsync(deploymentId, settings ?? DefaultSettings, ct);
        return run.IsOk ? await EnqueueAsync(run.Value!, ct) : run;
    }

    public async Task<Outcome<ProfileRunView>> ResumeAsync(int runId, CancellationToken ct = default)
    {
        var run = await store.ResumeAsync(runId, ct);
        return run.IsOk ? await EnqueueAsync(run.Value!, ct) : run;
    }

    public async Task<Outcome<ProfileRunView>> RerunAsync(int runId, CancellationToken ct = default)
    {
        var run = await store.RerunAsync(runId, ct);
        return run.IsOk ? await EnqueueAsync(run.Value!, ct) : run;
    }

    /// <summary>Stops a run: marks the request in the database and cancels its requests at once when it runs here.</summary>
    public async Task<Outcome<ProfileRunView>> CancelAsync(int runId, CancellationToken ct = default)
    {
        var run = await store.RequestCancelAsync(runId, ct);
        if (run.IsOk)
        {
            live.Cancel(runId);
        }

        return run;
    }

    public Task<Outcome<ProfileFitView>> FitAsync(int runId, CancellationToken ct = default) => fitting.FitRunAsync(runId, ct);

    /// <summary>Imports a CSV of measured requests as a completed run of the deployment and fits it.</summary>
    /// <param name="layout"><see cref="ProfileCsvLayouts.Generic"/> or <see cref="ProfileCsvLayouts.LlmInferenceBench"/>.</param>
    /// <param name="csv">The file.</param>
    /// <param name="ttftCsv">LLM-Inference-Bench's TTFT file (all_results_TTFT_ITL.csv), optional.</param>
    /// <param name="filter">LLM-Inference-Bench: which configuration to import.</param>
    public async Task<Outcome<ProfileImportResult>> ImportAsync(
        int deploymentId, string layout, TextReader csv, TextReader? ttftCsv, LlmInferenceBenchFilter? filter, string fileName, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ProfileCsvImport import;
        IReadOnlyList<string> configurations = [];
        switch (layout)
        {
            case ProfileCsvLayouts.Generic:
                import = GenericProfileCsv.Parse(csv);
                break;
            case ProfileCsvLayouts.LlmInferenceBench:
                var bench = LlmInferenceBenchCsv.Parse(csv, ttftCsv, filter ?? new LlmInferenceBenchFilter());
                import = bench.Import;
                configurations = bench.Configurations.Select(c => c.ToString()).ToList();
                if (import.Failure is null && bench.Configurations.Count > 1)
                {
                    return Outcome<ProfileImportResult>.Invalid("filter",
                        $"The rows match {bench.Configurations.Count} configurations ({string.Join("; ", configurations.Take(5))}); " +
                        "a profile is one deployment: narrow the model, hardware, framework or hardware count.");
                }

                break;
            default:
                return Outcome<ProfileImportResult>.Invalid("layout", $"Unknown layout '{layout}': use '{ProfileCsvLayouts.Generic}' or '{ProfileCsvLayouts.LlmInferenceBench}'.");
        }

        if (import.Failure is not null)
        {
            return Outcome<ProfileImportResult>.Invalid("file", import.Failure);
        }

        var malformed = import.Malformed.ToList();
        if (import.Samples.Count == 0)
        {
            return Outcome<ProfileImportResult>.Invalid("file", "No row could be imported. " +
                string.Join(" ", import.Issues.Take(20).Select(i => i.ToString())));
        }

        var message = $"Imported {import.Samples.Count} rows from {fileName} ({layout})" +
            (configurations.Count == 1 ? $", {configurations[0]}" : "") +
            (malformed.Count > 0 ? $"; {malformed.Count} malformed row(s) skipped" : "") +
            (import.Excluded.Any() ? $"; {import.Excluded.Count()} row(s) excluded" : "") + ".";
        var run = await store.ImportAsync(deploymentId, import.Samples, message, ct);
        if (!run.IsOk)
        {
            return Outcome<ProfileImportResult>.NotFound(run.Message ?? "");
        }

        var fit = await fitting.FitRunAsync(run.Value!.Id, ct);
        return Outcome<ProfileImportResult>.Ok(new ProfileImportResult(run.Value, fit.Value, fit.IsOk ? null : fit.Message, import.Issues, configurations));
    }

    /// <summary>Sets a deployment's recurring profiling (Hangfire cron, UTC).</summary>
    public async Task<Outcome<ProfileScheduleView>> ScheduleAsync(int deploymentId, string cron, ProfileSweepSettings? settings, CancellationToken ct = default)
    {
        var schedule = await store.SetScheduleAsync(deploymentId, cron, settings ?? DefaultSettings, ct);
        if (!schedule.IsOk)
        {
            return schedule;
        }

        try
        {
            Register(schedule.Value!);
        }
        catch (ArgumentException ex)
        {
            // Hangfire parses the expression; keep no schedule it cannot run.
            await store.RemoveScheduleAsync(deploymentId, ct);
            return Outcome<ProfileScheduleView>.Invalid("Cron", $"'{cron}' is not a cron expression Hangfire accepts (e.g. '0 3 * * *'): {ex.Message}");
        }

        return schedule;
    }

    public async Task<Outcome<bool>> UnscheduleAsync(int deploymentId, CancellationToken ct = default)
    {
        var removed = await store.RemoveScheduleAsync(deploymentId, ct);
        recurring.RemoveIfExists(ProfilingJob.RecurringId(deploymentId));
        return removed;
    }

    /// <summary>Registers a stored schedule with Hangfire (at start, since its storage is in memory).</summary>
    public void Register(ProfileScheduleView schedule) =>
        recurring.AddOrUpdate<ProfilingJob>(ProfilingJob.RecurringId(schedule.DeploymentId),
            j => j.ScheduledAsync(schedule.DeploymentId, CancellationToken.None), schedule.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });

    private async Task<Outcome<ProfileRunView>> EnqueueAsync(ProfileRunView run, CancellationToken ct)
    {
        var jobId = jobs.Enqueue<ProfilingJob>(j => j.RunAsync(run.Id, CancellationToken.None));
        await store.SetJobIdAsync(run.Id, jobId, ct);
        return Outcome<ProfileRunView>.Ok(run);
    }
}
