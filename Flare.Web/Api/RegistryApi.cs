using Flare.Data.Registry;
using Flare.Routing.Registry;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Flare.Web.Api;

/// <summary>The registry as JSON under <c>/api</c>: the same store and rules as the UI.</summary>
public static class RegistryApi
{
    /// <summary>Body of <c>PUT /api/gpu-pool/{gpuTypeId}</c>.</summary>
    public sealed record PoolCountInput(int Count);

    public static void MapRegistryApi(this RouteGroupBuilder api)
    {
        var gpus = api.MapGroup("/gpu-types").WithTags("GPU types");
        gpus.MapGet("/", (RegistryStore s, CancellationToken ct) => s.ListGpuTypesAsync(ct));
        gpus.MapGet("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.GetGpuTypeAsync(id, ct)));
        gpus.MapPost("/", async (GpuTypeInput input, RegistryStore s, CancellationToken ct) =>
            ToHttp(await s.CreateGpuTypeAsync(input, ct), created: v => $"/api/gpu-types/{v.Id}"));
        gpus.MapPut("/{id:int}", async (int id, GpuTypeInput input, RegistryStore s, CancellationToken ct) => ToHttp(await s.UpdateGpuTypeAsync(id, input, ct)));
        gpus.MapDelete("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.DeleteGpuTypeAsync(id, ct)));

        var pool = api.MapGroup("/gpu-pool").WithTags("GPU pool");
        pool.MapGet("/", (RegistryStore s, CancellationToken ct) => s.GetPoolAsync(ct));
        pool.MapPut("/{gpuTypeId:int}", async (int gpuTypeId, PoolCountInput input, RegistryStore s, CancellationToken ct) =>
            ToHttp(await s.SetPoolCountAsync(gpuTypeId, input.Count, ct)));

        var models = api.MapGroup("/models").WithTags("Models");
        models.MapGet("/", (RegistryStore s, CancellationToken ct) => s.ListModelsAsync(ct));
        models.MapGet("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.GetModelAsync(id, ct)));
        models.MapPost("/", async (ModelInput input, RegistryStore s, CancellationToken ct) =>
            ToHttp(await s.CreateModelAsync(input, ct), created: v => $"/api/models/{v.Id}"));
        models.MapPut("/{id:int}", async (int id, ModelInput input, RegistryStore s, CancellationToken ct) => ToHttp(await s.UpdateModelAsync(id, input, ct)));
        models.MapDelete("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.DeleteModelAsync(id, ct)));

        var deployments = api.MapGroup("/deployments").WithTags("Deployments");
        deployments.MapGet("/", (RegistryStore s, CancellationToken ct) => s.ListDeploymentsAsync(ct));
        deployments.MapGet("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.GetDeploymentAsync(id, ct)));
        deployments.MapPost("/", async (DeploymentInput input, RegistryStore s, CancellationToken ct) =>
            ToHttp(await s.CreateDeploymentAsync(input, ct), created: v => $"/api/deployments/{v.Id}"));
        deployments.MapPut("/{id:int}", async (int id, DeploymentInput input, RegistryStore s, CancellationToken ct) => ToHttp(await s.UpdateDeploymentAsync(id, input, ct)));
        deployments.MapDelete("/{id:int}", async (int id, RegistryStore s, CancellationToken ct) => ToHttp(await s.DeleteDeploymentAsync(id, ct)));
    }

    /// <summary>200 (or 201 with Location), 204 for a delete, else problem details: 400 with field errors, 404, 409.</summary>
    internal static IResult ToHttp<T>(Outcome<T> outcome, Func<T, string>? created = null) => outcome.Kind switch
    {
        OutcomeKind.Ok when outcome.Value is bool => TypedResults.NoContent(),
        OutcomeKind.Ok when created is not null => TypedResults.Created(created(outcome.Value!), outcome.Value),
        OutcomeKind.Ok => TypedResults.Ok(outcome.Value),
        OutcomeKind.Invalid => TypedResults.ValidationProblem(outcome.Errors.ToDictionary(), detail: outcome.Message,
            title: "The request has invalid fields"),
        OutcomeKind.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: outcome.Message),
        OutcomeKind.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: outcome.Message,
            extensions: outcome.Errors.IsEmpty ? null : new Dictionary<string, object?> { ["errors"] = outcome.Errors.ToDictionary() }),
        _ => throw new InvalidOperationException($"Unknown outcome {outcome.Kind}"),
    };
}
