using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flare.Tests.Support;

namespace Flare.Tests.Web.Api;

[Collection(nameof(HostCollection))]
public sealed class RegistryApiTests : IAsyncLifetime
{
    private readonly FlareWebFactory _factory = new();
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _http = _factory.CreateClient();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task GpuTypes_CrudRoundTrip()
    {
        var created = await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await Json(created)).GetProperty("id").GetInt32();
        Assert.Equal($"/api/gpu-types/{id}", created.Headers.Location?.ToString());

        var updated = await _http.PutAsJsonAsync($"/api/gpu-types/{id}", Samples.A100 with { PricePerHourUsd = 2.5 }, Ct);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(2.5, (await Json(updated)).GetProperty("pricePerHourUsd").GetDouble());

        var list = await Json(await _http.GetAsync("/api/gpu-types", Ct));
        Assert.Equal(1, list.GetArrayLength());

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/gpu-types/{id}", Ct)).StatusCode);
        await AssertProblem(await _http.GetAsync($"/api/gpu-types/{id}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task GpuTypes_InvalidFields_400WithFieldErrors()
    {
        var response = await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100 with { MemoryGiB = -1, Name = "" }, Ct);

        var problem = await AssertProblem(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("MemoryGiB", out _));
        Assert.True(errors.TryGetProperty("Name", out _));
    }

    [Fact]
    public async Task GpuTypes_DuplicateName_409()
    {
        await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100, Ct);

        var problem = await AssertProblem(await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100, Ct), HttpStatusCode.Conflict);
        Assert.Contains("already exists", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("{\"name\": \"x\", ")]
    [InlineData("{\"name\": 5, \"memoryGiB\": \"lots\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    public async Task GpuTypes_MalformedBody_400ProblemSayingWhy(string body)
    {
        var response = await _http.PostAsync("/api/gpu-types", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        var problem = await AssertProblem(response, HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Empty(await Json(await _http.GetAsync("/api/gpu-types", Ct)) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : throw new InvalidOperationException());
    }

    [Fact]
    public async Task GpuPool_SetCount_AndNegativeIs400_UnknownIs404()
    {
        var id = (await Json(await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100, Ct))).GetProperty("id").GetInt32();

        var ok = await _http.PutAsJsonAsync($"/api/gpu-pool/{id}", new { count = 8 }, Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(8, (await Json(await _http.GetAsync("/api/gpu-pool", Ct)))[0].GetProperty("count").GetInt32());

        var negative = await AssertProblem(await _http.PutAsJsonAsync($"/api/gpu-pool/{id}", new { count = -1 }, Ct), HttpStatusCode.BadRequest);
        Assert.True(negative.GetProperty("errors").TryGetProperty("PoolCount", out _));
        await AssertProblem(await _http.PutAsJsonAsync("/api/gpu-pool/999", new { count = 1 }, Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Models_CrudAndErrors()
    {
        var created = await _http.PostAsJsonAsync("/api/models", Samples.Llama8B, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = await Json(created);
        var id = model.GetProperty("id").GetInt32();
        Assert.Equal("chat", model.GetProperty("tags")[0].GetString());

        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/api/models/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsJsonAsync($"/api/models/{id}", Samples.Llama8B with { ContextLength = 8192 }, Ct)).StatusCode);
        await AssertProblem(await _http.PostAsJsonAsync("/api/models", Samples.Llama8B with { ParameterCountBillions = 0 }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await _http.PostAsJsonAsync("/api/models", Samples.Llama8B, Ct), HttpStatusCode.Conflict);
        await AssertProblem(await _http.PutAsJsonAsync("/api/models/999", Samples.Llama8B, Ct), HttpStatusCode.NotFound);
        await AssertProblem(await _http.DeleteAsync("/api/models/999", Ct), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/models/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Deployments_CrudAndErrors()
    {
        var gpuId = (await Json(await _http.PostAsJsonAsync("/api/gpu-types", Samples.A100, Ct))).GetProperty("id").GetInt32();
        var modelId = (await Json(await _http.PostAsJsonAsync("/api/models", Samples.Llama8B, Ct))).GetProperty("id").GetInt32();
        var input = Samples.SelfHosted(modelId, gpuId) with { ApiKey = "sk-secret-0123456789" };

        var created = await _http.PostAsJsonAsync("/api/deployments", input, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("sk-secret-0123456789", body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
        Assert.Equal("SelfHosted", JsonDocument.Parse(body).RootElement.GetProperty("kind").GetString());

        Assert.DoesNotContain("sk-secret", await _http.GetStringAsync("/api/deployments", Ct));
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsJsonAsync($"/api/deployments/{id}", input with { MaxConcurrency = 8 }, Ct)).StatusCode);

        var missingModel = await AssertProblem(await _http.PostAsJsonAsync("/api/deployments", input with { Name = "other", ModelId = 999 }, Ct), HttpStatusCode.BadRequest);
        Assert.True(missingModel.GetProperty("errors").TryGetProperty("ModelId", out _));
        await AssertProblem(await _http.PostAsJsonAsync("/api/deployments", input, Ct), HttpStatusCode.Conflict);
        await AssertProblem(await _http.GetAsync("/api/deployments/999", Ct), HttpStatusCode.NotFound);

        var inUse = await AssertProblem(await _http.DeleteAsync($"/api/models/{modelId}", Ct), HttpStatusCode.Conflict);
        Assert.Contains(input.Name, inUse.GetProperty("detail").GetString());
        await AssertProblem(await _http.DeleteAsync($"/api/gpu-types/{gpuId}", Ct), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/deployments/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/models/{modelId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Deployments_UnknownKind_400()
    {
        var response = await _http.PostAsync("/api/deployments",
            new StringContent("{\"name\":\"x\",\"modelId\":1,\"kind\":\"Quantum\"}", Encoding.UTF8, "application/json"), Ct);

        await AssertProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UnknownApiPath_404Problem() =>
        await AssertProblem(await _http.GetAsync("/api/nothing-here", Ct), HttpStatusCode.NotFound);

    [Fact]
    public async Task OpenApi_DescribesTheRegistryEndpoints()
    {
        var doc = await Json(await _http.GetAsync("/openapi/v1.json", Ct));
        var paths = doc.GetProperty("paths");

        foreach (var path in new[] { "/api/gpu-types", "/api/gpu-types/{id}", "/api/gpu-pool", "/api/gpu-pool/{gpuTypeId}", "/api/models", "/api/models/{id}", "/api/deployments", "/api/deployments/{id}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI document lacks {path}");
        }
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

    private static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }
}
