using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Web.Api;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Flare.Web.History;

/// <summary>The routing history under <c>/api/history</c>: the same store and rules as the UI.</summary>
public static class HistoryApi
{
    /// <summary>The live estimator at a glance.</summary>
    /// <param name="Ready">The start-up rebuild from the database has finished.</param>
    /// <param name="Prompts">Distinct prompts the estimator holds (rows of mapped models only).</param>
    /// <param name="Models">Registry models it has outcomes for.</param>
    /// <param name="Revision">Rebuilds swapped in since start.</param>
    public sealed record EstimatorStatus(bool Ready, int Prompts, IReadOnlyList<string> Models, string Embedder, int Revision);

    // The text fields (a price table is the largest) are read into memory; the file never is.
    private const int MaxFieldCharacters = 1 << 20;

    public static void MapHistoryApi(this IEndpointRouteBuilder app)
    {
        var history = app.MapGroup("/api/history").WithTags("History");
        history.MapGet("/datasets", (HistoryStore s, CancellationToken ct) => s.ListDatasetsAsync(ct));
        history.MapPost("/datasets", UploadAsync)
            .DisableAntiforgery()
            .Produces<HistoryUploadResult>(StatusCodes.Status202Accepted)
            .Produces<HistoryUploadResult>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .WithDescription(
                "Uploads a history file and imports it in the background; 202 with the dataset, whose progress GET /api/history/datasets/{id} shows. " +
                "The same file (by SHA-256) again: 200 with the existing dataset and nothing added (an interrupted or failed import of it resumes: 202). " +
                "Either multipart/form-data with fields file, format (jsonl | csv | routerbench | llmrouter), and optional name, prices (a price table, " +
                "LLMRouter's default_llm.json layout) and assumedOutputTokens; or the file as the raw body with ?format=&name=&assumedOutputTokens= in the query.");
        history.MapGet("/datasets/{id:int}", async (int id, HistoryStore s, CancellationToken ct) =>
            await s.GetDatasetAsync(id, ct) is { } detail ? Results.Ok(detail) : NotFound(id));
        history.MapGet("/datasets/{id:int}/models", async (int id, HistoryStore s, CancellationToken ct) => RegistryApi.ToHttp(await s.GetModelMapAsync(id, ct)));
        history.MapPut("/datasets/{id:int}/models", async (int id, IReadOnlyList<HistoryModelMapInput> changes, HistoryStore s, CancellationToken ct) =>
            RegistryApi.ToHttp(await s.SetModelMapAsync(id, changes, ct)))
            .WithDescription("Maps dataset models to registry models: [{\"datasetModel\": \"…\", \"registryModelId\": 3}], null to unmap. Models not listed keep their mapping. The estimator is rebuilt.");
        history.MapDelete("/datasets/{id:int}", async (int id, HistoryStore s, CancellationToken ct) => RegistryApi.ToHttp(await s.DeleteDatasetAsync(id, ct)));
        history.MapGet("/estimator", (HistoryIndexService index) =>
        {
            var current = index.Current;
            return new EstimatorStatus(index.IsReady, current.Count, current.Models, index.EmbedderDescription, index.Revision);
        });
    }

    private static IResult NotFound(int id) => RegistryApi.ToHttp(Outcome<bool>.NotFound($"History dataset {id} does not exist."));

    private static async Task<IResult> UploadAsync(HttpContext http, HistoryImports imports, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = imports.MaxUploadBytes;
        }

        var request = http.Request;
        Outcome<HistoryUploadResult> outcome;
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            outcome = await MultipartAsync(request, type, imports, ct);
        }
        else
        {
            var query = request.Query;
            var assumedText = query["assumedOutputTokens"].FirstOrDefault();
            int? assumed = null;
            if (!string.IsNullOrWhiteSpace(assumedText))
            {
                if (!int.TryParse(assumedText, out var n))
                {
                    return RegistryApi.ToHttp(Outcome<HistoryUploadResult>.Invalid("assumedOutputTokens", "assumedOutputTokens must be a whole number."));
                }

                assumed = n;
            }

            var upload = new HistoryUploadRequest(query["format"].FirstOrDefault(), query["name"].FirstOrDefault(), null, assumed);

            // Refuse a bad format before reading a large body for nothing.
            var check = HistoryImports.Check(upload);
            if (!check.IsOk)
            {
                return RegistryApi.ToHttp(check);
            }

            var saved = await imports.SaveAsync(request.Body, ct);
            outcome = saved.IsOk ? await imports.StartAsync(upload, saved.Value!, ct) : Outcome<HistoryUploadResult>.Invalid(saved.Errors);
        }

        if (!outcome.IsOk)
        {
            return RegistryApi.ToHttp(outcome);
        }

        var result = outcome.Value!;
        return result.Start == HistoryImportStart.Existing
            ? TypedResults.Ok(result)
            : TypedResults.Accepted($"/api/history/datasets/{result.Dataset.Id}", result);
    }

    // Streams the parts: the file goes straight to disk; the small fields are read as text.
    private static async Task<Outcome<HistoryUploadResult>> MultipartAsync(HttpRequest request, MediaTypeHeaderValue type, HistoryImports imports, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return Outcome<HistoryUploadResult>.Invalid("file", "The multipart body has no boundary.");
        }

        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        HistoryUpload? upload = null;
        string? fileName = null;
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = imports.MaxUploadBytes };
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !(disposition.IsFileDisposition() || disposition.IsFormDisposition()))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (name.Equals("file", StringComparison.OrdinalIgnoreCase) && upload is null)
                {
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    var saved = await imports.SaveAsync(section.Body, ct);
                    if (!saved.IsOk)
                    {
                        return Outcome<HistoryUploadResult>.Invalid(saved.Errors);
                    }

                    upload = saved.Value;
                }
                else
                {
                    fields[name] = await ReadTextAsync(section.Body, name, ct);
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException and not BadHttpRequestException)
        {
            Delete(upload);
            return Outcome<HistoryUploadResult>.Invalid("file", $"The multipart body could not be read: {ex.Message}");
        }
        catch
        {
            Delete(upload);
            throw;
        }

        if (upload is null)
        {
            return Outcome<HistoryUploadResult>.Invalid("file", "Send the history file in a form field named 'file'.");
        }

        int? assumed = null;
        if (fields.TryGetValue("assumedOutputTokens", out var assumedText) && !string.IsNullOrWhiteSpace(assumedText))
        {
            if (!int.TryParse(assumedText, out var n))
            {
                Delete(upload);
                return Outcome<HistoryUploadResult>.Invalid("assumedOutputTokens", "assumedOutputTokens must be a whole number.");
            }

            assumed = n;
        }

        return await imports.StartAsync(
            new HistoryUploadRequest(fields.GetValueOrDefault("format"), fields.GetValueOrDefault("name"), fields.GetValueOrDefault("prices"), assumed, fileName),
            upload, ct);
    }

    private static async Task<string> ReadTextAsync(Stream body, string field, CancellationToken ct)
    {
        using var reader = new StreamReader(body);
        var text = new System.Text.StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, ct)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > MaxFieldCharacters)
            {
                throw new InvalidDataException($"The form field '{field}' is longer than {MaxFieldCharacters:N0} characters.");
            }
        }

        return text.ToString();
    }

    private static void Delete(HistoryUpload? upload)
    {
        if (upload is not null)
        {
            File.Delete(upload.Path);
        }
    }
}
