using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;

namespace Flare.Web.Api;

public static class ApiHosting
{
    /// <summary>JSON with enum names, ProblemDetails for every error, and an OpenAPI document at <c>/openapi/v1.json</c>.</summary>
    public static void AddFlareApi(this WebApplicationBuilder builder)
    {
        // Enum names, and no silently ignored fields: a misspelt property is a 400, not a default value.
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();

        // Body binding failures (malformed JSON, wrong types) throw, so the handler can say what was wrong.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Flare control-plane API";
            doc.Info.Description = "Registry of GPU types, the GPU pool, models and deployments; profiling; routing plans. Errors are RFC 9457 problem details.";
            return Task.CompletedTask;
        }));
    }

    public static void MapFlareApi(this WebApplication app)
    {
        app.MapOpenApi();
        var api = app.MapGroup("/api");
        api.MapRegistryApi();
        Profiling.ProfilingApi.MapProfilingApi(api);
        Plans.PlansApi.MapPlansApi(api);
        Traffic.RequestsApi.MapRequestsApi(api);
        api.MapFallback(() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
            detail: "No /api endpoint matches this path and method. The OpenAPI document at /openapi/v1.json lists them."));
    }
}

/// <summary>
/// Turns exceptions into problem details: a bad request body into a 400 that says what was wrong, anything
/// else into a 500 that says nothing internal (the details go to the log).
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (http.Request.Path.StartsWithSegments("/v1"))
        {
            // The data plane speaks OpenAI's error shape, never ProblemDetails.
            LogUnhandled(exception, http.Request.Method, http.Request.Path);
            if (!http.Response.HasStarted)
            {
                await Gateway.OpenAIError.WriteAsync(http, 500, "Flare could not complete the request; the server log has the details.", Gateway.OpenAIError.Server, null, "internal_error");
            }

            return true;
        }

        ProblemDetails problem;
        if (exception is BadHttpRequestException bad)
        {
            problem = new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Invalid request body",
                Detail = bad.InnerException is { } inner ? $"{bad.Message} {inner.Message}" : bad.Message,
            };
        }
        else
        {
            LogUnhandled(exception, http.Request.Method, http.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal error",
                Detail = "Flare could not complete the request; the server log has the details.",
            };
        }

        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, string path);
}
