using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Routing.Profiles;
using Flare.Web.Api;
using Microsoft.AspNetCore.Mvc;

namespace Flare.Web.Profiling;

/// <summary>Profiling under <c>/api</c>: the same service and rules as the UI.</summary>
public static class ProfilingApi
{
    /// <summary>Body of <c>PUT /api/deployments/{id}/profile/schedule</c>.</summary>
    /// <param name="Cron">Hangfire cron expression, UTC (e.g. <c>0 3 * * *</c>).</param>
    /// <param name="Settings">The sweep; default: the configured defaults.</param>
    public sealed record ScheduleInput(string Cron, ProfileSweepSettings? Settings);

    /// <summary>A deployment's profiling at a glance.</summary>
    public sealed record ProfileOverview(int DeploymentId, ProfileFitView? ActiveFit, ProfileRunView? LiveRun, ProfileScheduleView? Schedule, ProfileSweepSettings DefaultSettings);

    public static void MapProfilingApi(this RouteGroupBuilder api)
    {
        var deployment = api.MapGroup("/deployments/{id:int}/profile").WithTags("Profiling");
        deployment.MapGet("/", async (int id, ProfilingStore s, ProfilingService p, CancellationToken ct) =>
        {
            if (await s.GetTargetAsync(id, ct) is null)
            {
                return RegistryApi.ToHttp(Outcome<bool>.NotFound($"Deployment {id} does not exist."));
            }

            var fits = await s.ListFitsAsync(id, ct);
            var runs = await s.ListRunsAsync(id, ct);
            return TypedResults.Ok(new ProfileOverview(id, fits.FirstOrDefault(f => f.IsActive), runs.FirstOrDefault(r => r.IsLive), await s.GetScheduleAsync(id, ct), p.DefaultSettings));
        });
        deployment.MapPost("/runs", async (int id, [FromBody] ProfileSweepSettings? settings, ProfilingService p, CancellationToken ct) =>
            RegistryApi.ToHttp(await p.StartAsync(id, settings, ct), created: r => $"/api/profile-runs/{r.Id}"));
        deployment.MapGet("/runs", (int id, ProfilingStore s, CancellationToken ct) => s.ListRunsAsync(id, ct));
        deployment.MapGet("/fits", (int id, ProfilingStore s, CancellationToken ct) => s.ListFitsAsync(id, ct));
        deployment.MapPost("/import", async (int id, HttpRequest request, ProfilingService p, CancellationToken ct) => await ImportAsync(id, request, p, ct))
            .DisableAntiforgery()
            .WithDescription("multipart/form-data: file (CSV), layout (generic | llm-inference-bench), and for llm-inference-bench optional ttftFile, model, hardware, framework, hardwareCount.");
        deployment.MapGet("/schedule", async (int id, ProfilingStore s, CancellationToken ct) =>
            await s.GetScheduleAsync(id, ct) is { } schedule ? Results.Ok(schedule) : RegistryApi.ToHttp(Outcome<bool>.NotFound($"Deployment {id} has no profiling schedule.")));
        deployment.MapPut("/schedule", async (int id, ScheduleInput input, ProfilingService p, CancellationToken ct) =>
            RegistryApi.ToHttp(await p.ScheduleAsync(id, input.Cron, input.Settings, ct)));
        deployment.MapDelete("/schedule", async (int id, ProfilingService p, CancellationToken ct) => RegistryApi.ToHttp(await p.UnscheduleAsync(id, ct)));

        var runs = api.MapGroup("/profile-runs").WithTags("Profiling");
        runs.MapGet("/{runId:int}", async (int runId, ProfilingStore s, CancellationToken ct) =>
            await s.GetRunAsync(runId, ct) is { } run ? Results.Ok(run) : NotFound(runId));
        runs.MapGet("/{runId:int}/samples", async (int runId, ProfilingStore s, CancellationToken ct) =>
            await s.GetRunAsync(runId, ct) is null ? NotFound(runId) : Results.Ok(await s.ListSamplesAsync(runId, ct)));
        runs.MapGet("/{runId:int}/cells", async (int runId, ProfilingStore s, CancellationToken ct) =>
            await s.GetRunAsync(runId, ct) is { } run ? Results.Ok(ProfileComparison.Cells(run, await s.ListSamplesAsync(runId, ct))) : NotFound(runId));
        runs.MapPost("/{runId:int}/cancel", async (int runId, ProfilingService p, CancellationToken ct) => RegistryApi.ToHttp(await p.CancelAsync(runId, ct)));
        runs.MapPost("/{runId:int}/resume", async (int runId, ProfilingService p, CancellationToken ct) => RegistryApi.ToHttp(await p.ResumeAsync(runId, ct)));
        runs.MapPost("/{runId:int}/rerun", async (int runId, ProfilingService p, CancellationToken ct) =>
            RegistryApi.ToHttp(await p.RerunAsync(runId, ct), created: r => $"/api/profile-runs/{r.Id}"));
        runs.MapPost("/{runId:int}/fit", async (int runId, ProfilingService p, CancellationToken ct) => RegistryApi.ToHttp(await p.FitAsync(runId, ct)));
        runs.MapGet("/compare", async (int a, int b, ProfilingStore s, CancellationToken ct) =>
        {
            var left = await s.GetRunAsync(a, ct);
            var right = await s.GetRunAsync(b, ct);
            if (left is null || right is null)
            {
                return NotFound(left is null ? a : b);
            }

            return Results.Ok(ProfileComparison.Compare(left, await s.ListSamplesAsync(a, ct), right, await s.ListSamplesAsync(b, ct)));
        });

        var fits = api.MapGroup("/profile-fits").WithTags("Profiling");
        fits.MapPost("/{fitId:int}/activate", async (int fitId, ProfilingStore s, CancellationToken ct) => RegistryApi.ToHttp(await s.ActivateFitAsync(fitId, ct)));
    }

    private static IResult NotFound(int runId) => RegistryApi.ToHttp(Outcome<bool>.NotFound($"Profiling run {runId} does not exist."));

    private static async Task<IResult> ImportAsync(int id, HttpRequest request, ProfilingService p, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            return RegistryApi.ToHttp(Outcome<bool>.Invalid("file", "Send multipart/form-data with the CSV in a field named 'file'."));
        }

        var form = await request.ReadFormAsync(ct);
        if (form.Files.GetFile("file") is not { } file)
        {
            return RegistryApi.ToHttp(Outcome<bool>.Invalid("file", "Send the CSV in a form field named 'file'."));
        }

        var layout = form["layout"].FirstOrDefault() ?? ProfileCsvLayouts.Generic;
        int? count = null;
        if (form["hardwareCount"].FirstOrDefault() is { Length: > 0 } countText)
        {
            if (!int.TryParse(countText, out var n) || n < 1)
            {
                return RegistryApi.ToHttp(Outcome<bool>.Invalid("hardwareCount", "hardwareCount must be a whole number ≥ 1."));
            }

            count = n;
        }

        var filter = new LlmInferenceBenchFilter(Blank(form["model"]), Blank(form["hardware"]), Blank(form["framework"]), count);
        using var csv = new StreamReader(file.OpenReadStream());
        using var ttft = form.Files.GetFile("ttftFile") is { } t ? new StreamReader(t.OpenReadStream()) : null;
        var outcome = await p.ImportAsync(id, layout, csv, ttft, filter, file.FileName, ct);
        return RegistryApi.ToHttp(outcome, created: r => $"/api/profile-runs/{r.Run.Id}");
    }

    private static string? Blank(Microsoft.Extensions.Primitives.StringValues value) =>
        value.FirstOrDefault() is { Length: > 0 } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}
