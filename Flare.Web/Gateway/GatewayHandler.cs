using System.Buffers;
using System.Diagnostics;
using System.Net;
using Flare.Data.Gateway;
using Flare.Routing.Routing;
using Flare.Web.History;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Flare.Web.Gateway;

/// <summary>
/// The path a <c>/v1</c> request takes: key and rate limit, body checks, candidates from the routing
/// snapshot, the policy's choice, forwarding with YARP (retrying on another deployment while nothing has
/// reached the client), then usage, cost, metrics and the request log — the last two off the critical path.
/// </summary>
/// <remarks>
/// A request naming a registered model goes least-outstanding among its deployments and touches no plan, prompt or
/// estimate. A request naming a router (<c>flare</c>) routes by the live plan; one naming a policy (<c>port</c>,
/// <c>best-quality</c>, …) by that policy's plan (<see cref="PlanBook"/>). Only when that policy scores candidates is the
/// prompt extracted and estimated, once, before the decision.
/// </remarks>
public sealed partial class GatewayHandler(
    IHttpForwarder forwarder,
    UpstreamClientPool clients,
    RoutingState routing,
    ApiKeyAuthenticator keys,
    RequestLogWriter requestLog,
    FlareMetrics metrics,
    CandidateEstimation estimation,
    RecentPrompts recentPrompts,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<GatewayHandler> log)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task HandleAsync(HttpContext http, V1Endpoint endpoint)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = "req_" + Guid.CreateVersion7().ToString("N");
        http.Response.Headers["x-flare-request-id"] = requestId;
        var entry = new RequestLogEntity
        {
            RequestId = requestId,
            TimestampUtc = time.GetUtcNow().UtcDateTime,
            Endpoint = endpoint == V1Endpoint.ChatCompletions ? "chat.completions" : "completions",
        };

        try
        {
            await ServeAsync(http, endpoint, started, entry);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            entry.Status = 499;
            entry.ErrorType = "client_closed";
        }
        finally
        {
            entry.E2eMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (entry.Status == 0)
            {
                entry.Status = http.Response.StatusCode;
            }

            Record(entry);
        }
    }

    private async Task ServeAsync(HttpContext http, V1Endpoint endpoint, long started, RequestLogEntity entry)
    {
        var key = keys.Authenticate(http.Request);
        if (key is null)
        {
            entry.ErrorType = OpenAIError.Authentication;
            await OpenAIError.WriteAsync(http, 401, "Missing or invalid API key. Send 'Authorization: Bearer <key>' with a key created in Flare.", OpenAIError.Authentication, null, "invalid_api_key");
            return;
        }

        entry.ApiKeyId = key.KeyId;
        if (!key.TryAdmit(keys.Now, out var retryAfter))
        {
            entry.ErrorType = OpenAIError.RateLimit;
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
            await OpenAIError.WriteAsync(http, 429, $"Rate limit of this API key reached; retry in {retryAfter.TotalSeconds:0.#} s.", OpenAIError.RateLimit, null, "rate_limit_exceeded");
            return;
        }

        var raw = await ReadBodyAsync(http.Request);
        if (raw is null)
        {
            entry.ErrorType = OpenAIError.InvalidRequest;
            await OpenAIError.WriteAsync(http, 413, $"The request body is larger than {_options.MaxRequestBodyBytes:N0} bytes.", OpenAIError.InvalidRequest, null, "request_too_large");
            return;
        }

        using var body = RequestBody.Parse(raw.Value, endpoint, out var problem);
        if (body is null)
        {
            entry.ErrorType = OpenAIError.InvalidRequest;
            await OpenAIError.WriteAsync(http, 400, problem.Message, OpenAIError.InvalidRequest, problem.Param, "invalid_request");
            return;
        }

        entry.RequestedModel = body.Model.Length > 200 ? body.Model[..200] : body.Model;
        entry.Stream = body.Stream;
        var snapshot = routing.Snapshot;
        var policy = routing.DefaultPolicy;
        entry.Policy = policy.Name;
        ActivePlan? plan = null;
        IReadOnlyList<DeploymentTarget> targets;
        if (snapshot.ByModel.TryGetValue(body.Model, out var forModel))
        {
            targets = forModel;
        }
        else if (ResolvePlan(body.Model) is { } routed)
        {
            plan = routed;
            policy = plan.Router;
            entry.PlanVersion = plan.Version;
            targets = snapshot.Deployments;
            SetPlanHeaders(http.Response, plan);
        }
        else if (RoutingPolicies.IsPlanPolicy(body.Model))
        {
            entry.Policy = body.Model;
            entry.ErrorType = OpenAIError.Unavailable;
            await OpenAIError.WriteAsync(http, 503,
                $"The '{body.Model}' router needs a computed routing plan and none is ready. Create one on the Plans page or with POST /api/plans.",
                OpenAIError.Unavailable, "model", "plan_not_ready");
            return;
        }
        else
        {
            entry.ErrorType = OpenAIError.NotFound;
            await OpenAIError.WriteAsync(http, 404, $"The model '{entry.RequestedModel}' does not exist or has no enabled deployment. GET /v1/models lists what Flare serves.", OpenAIError.NotFound, "model", "model_not_found");
            return;
        }

        entry.Policy = policy.Name;

        using var rented = new RentedCandidates(targets.Count);
        var candidates = rented.Array;
        var count = 0;
        foreach (var t in targets)
        {
            var state = routing.State(t.Id);
            if (!state.IsEjected)
            {
                candidates[count++] = new Candidate(t, state);
            }
        }

        if (count == 0)
        {
            entry.ErrorType = OpenAIError.Unavailable;
            await OpenAIError.WriteAsync(http, 503, $"No healthy deployment can serve '{entry.RequestedModel}' right now.", OpenAIError.Unavailable, "model", "no_healthy_deployment");
            return;
        }

        string? prompt = null;
        if (plan is not null && policy.NeedsEstimates)
        {
            prompt = body.PromptText();
            estimation.Fill(candidates.AsSpan(0, count), prompt, body.MaxOutputTokens());
        }

        var capture = new UsageCaptureStream(http.Response.Body, body.Stream, hideUsageChunk: body.Stream && !body.ClientWantsUsage);
        http.Response.Body = capture;
        var timing = new RequestTiming(started);
        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromSeconds(_options.UpstreamTimeoutSeconds),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        DeploymentTarget? served = null;
        AttemptContext? last = null;
        RoutingRequest decision = default;
        Candidate chosen = default;
        for (var attempt = 0; attempt < _options.MaxAttempts && count > 0; attempt++)
        {
            if (attempt > 0 && Stopwatch.GetElapsedTime(started).TotalSeconds > _options.RetryBudgetSeconds)
            {
                break;
            }

            decision = new RoutingRequest(body.Model, body.Length / 4, attempt, entry.TimestampUtc);
            var pick = policy.Choose(decision, candidates.AsSpan(0, count));
            if (attempt == 0 && plan is not null && policy.NeedsEstimates)
            {
                // Kept for the Explain view; scored and written off the request path by the log writer.
                entry.Decision = RoutingDecisionRecord.Capture(policy, plan.Header, candidates.AsSpan(0, count), pick, decision);
            }
            if (pick == RoutingDecision.BudgetExhausted && attempt == 0)
            {
                await DropForBudgetAsync(http, entry, policy, plan!);
                return;
            }

            if (pick < 0)
            {
                break;
            }

            chosen = candidates[pick];
            if (plan is not null && policy.NeedsEstimates)
            {
                http.Response.Headers["x-flare-estimate"] = EstimateHeader(chosen.Estimate.Source);
            }

            var (target, state, _) = chosen;
            var context = new AttemptContext
            {
                Target = target,
                IsLast = attempt == _options.MaxAttempts - 1 || count == 1,
                Stream = body.Stream,
                ClientAborted = http.RequestAborted,
            };
            last = context;
            entry.Attempts = attempt + 1;
            GatewayTransformer.SetBody(http.Request, body.RewriteFor(target.ServedModelName));
            var transformer = new GatewayTransformer(endpoint, context, policy.Name, timing);

            state.Enter();
            ForwarderError error;
            try
            {
                error = await forwarder.SendAsync(http, target.BaseUrl, clients.Get(target), config, transformer);
            }
            finally
            {
                state.Exit();
            }

            if (error == ForwarderError.None || http.Response.HasStarted)
            {
                served = target;
                var failed = error != ForwarderError.None || context.MidStreamError is not null || http.Response.StatusCode >= 500;
                if (failed)
                {
                    Eject(state, target);
                }
                else
                {
                    state.RecordSuccess();
                }

                if (context.MidStreamError is not null)
                {
                    entry.ErrorType = context.MidStreamError;
                }

                break;
            }

            // Nothing reached the client: take this deployment out of the running and try the next one.
            Eject(state, target);
            metrics.Retries.Add(1, new KeyValuePair<string, object?>("deployment", target.Name));
            LogRetry(target.Name, context.RetryableStatus?.ToString() ?? error.ToString(), entry.RequestId);
            if (plan is not null)
            {
                policy.Settle(decision, chosen, null);
            }

            candidates[pick] = candidates[--count];
            http.Response.Clear();
            http.Response.Headers["x-flare-request-id"] = entry.RequestId;
            if (plan is not null)
            {
                SetPlanHeaders(http.Response, plan);
            }
        }

        if (served is null)
        {
            entry.ErrorType = OpenAIError.Upstream;
            var reason = last?.RetryableStatus is { } s ? $"the last answered {s}" : "none could be reached";
            await OpenAIError.WriteAsync(http, last is null ? 503 : 502,
                last is null
                    ? $"Every deployment of '{entry.RequestedModel}' is at its concurrency limit."
                    : $"No deployment could serve the request after {entry.Attempts} attempt(s); {reason}.",
                last is null ? OpenAIError.Unavailable : OpenAIError.Upstream, null, last is null ? "capacity_exhausted" : "upstream_unavailable");
            return;
        }

        entry.DeploymentId = served.Id;
        entry.DeploymentName = served.Name;
        entry.OverheadMs = timing.OverheadMs;
        if (capture.FirstByteAt != 0)
        {
            entry.TtftMs = Stopwatch.GetElapsedTime(started, capture.FirstByteAt).TotalMilliseconds;
        }

        if (capture.ReadUsage() is var (input, output))
        {
            entry.InputTokens = input;
            entry.OutputTokens = output;
            var e2e = Stopwatch.GetElapsedTime(started).TotalSeconds;
            entry.CostUsd = served.CostUsd(input, output, e2e, Math.Max(1, routing.State(served.Id).InFlight + 1));
            key.Charge(keys.Now, input + output);
        }

        var succeeded = http.Response.StatusCode < 400 && entry.ErrorType is null;
        if (plan is not null)
        {
            // What a budgeted policy reserved becomes what the request cost (its estimate when usage did not come back).
            policy.Settle(decision, chosen, succeeded ? entry.CostUsd ?? chosen.Estimate.CostUsd : null);
        }

        if (succeeded && (plan is not null || _options.RememberAllPrompts))
        {
            prompt ??= body.PromptText();
            recentPrompts.Remember(entry.RequestId, new RecentPrompt(prompt, served.ModelName, entry.OutputTokens, entry.CostUsd, time.GetUtcNow().UtcDateTime));
        }
    }

    /// <summary>The plan a router name (the live plan) or a policy name routes by; null for anything else.</summary>
    private ActivePlan? ResolvePlan(string model)
    {
        var plans = routing.Plans;
        return Array.IndexOf(_options.RouterNames, model) >= 0 ? plans.Live : plans.ForPolicy(model);
    }

    private static void SetPlanHeaders(HttpResponse response, ActivePlan plan)
    {
        response.Headers["x-flare-policy"] = plan.Policy;
        response.Headers["x-flare-plan"] = plan.Header;
    }

    private static string EstimateHeader(EstimateSource source) => source switch
    {
        EstimateSource.History => "history",
        EstimateSource.Prior => "prior",
        _ => "default",
    };

    /// <summary>
    /// PORT's drop: 429, because the request is refused for a quota that refills (OpenAI answers an exhausted quota with
    /// 429 too, so SDKs raise their rate-limit error), with <c>Retry-After</c> at the start of the next budget period.
    /// </summary>
    private static Task DropForBudgetAsync(HttpContext http, RequestLogEntity entry, IRoutingPolicy policy, ActivePlan plan)
    {
        entry.ErrorType = OpenAIError.RateLimit;
        var wait = (policy as IBudgetedPolicy)?.UntilNextPeriod(entry.TimestampUtc) ?? TimeSpan.FromMinutes(1);
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return OpenAIError.WriteAsync(http, 429,
            $"Routing plan {plan.Header} ({policy.Name}) drops this request: its budget for this period is spent; it refills in {wait.TotalMinutes:0.#} min.",
            OpenAIError.RateLimit, "model", "budget_exhausted");
    }

    private void Eject(DeploymentState state, DeploymentTarget target)
    {
        if (state.RecordFailure(time.GetUtcNow(), _options.FailuresToEject, TimeSpan.FromSeconds(_options.EjectSeconds)))
        {
            LogEjected(target.Name, _options.FailuresToEject, _options.EjectSeconds);
        }
    }

    /// <summary>The body, or null when it is larger than the limit (checked before reading when the length is declared).</summary>
    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request)
    {
        var max = _options.MaxRequestBodyBytes;
        if (request.ContentLength > max)
        {
            return null;
        }

        var ct = request.HttpContext.RequestAborted;
        if (request.ContentLength is { } declared)
        {
            // The usual case: read straight into a buffer of the declared size (the server enforces it).
            var exact = new byte[declared];
            var read = await request.Body.ReadAtLeastAsync(exact, exact.Length, throwOnEndOfStream: false, ct);
            return exact.AsMemory(0, read);
        }

        var buffer = new MemoryStream(4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + n > max)
                {
                    return null;
                }

                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>Metrics now (cheap, in-memory), the log entry later (queued, written in batches).</summary>
    private void Record(RequestLogEntity entry)
    {
        var deployment = new KeyValuePair<string, object?>("deployment", entry.DeploymentName ?? "none");
        metrics.Requests.Add(1, deployment, new("policy", entry.Policy ?? "none"), new("status", entry.Status));
        metrics.E2e.Record(entry.E2eMs / 1000.0, deployment);
        metrics.Overhead.Record(Math.Max(0, entry.OverheadMs) / 1000.0);
        if (entry.TtftMs is { } ttft)
        {
            metrics.Ttft.Record(ttft / 1000.0, deployment);
        }

        if (entry.InputTokens is { } input)
        {
            metrics.Tokens.Add(input, deployment, new("direction", "input"));
            metrics.Tokens.Add(entry.OutputTokens ?? 0, deployment, new("direction", "output"));
            metrics.Cost.Add(entry.CostUsd ?? 0, deployment);
        }

        requestLog.Enqueue(entry);
    }

    /// <summary>The request's candidates in a pooled array: no allocation per request once the pool is warm.</summary>
    private readonly struct RentedCandidates(int length) : IDisposable
    {
        public Candidate[] Array { get; } = ArrayPool<Candidate>.Shared.Rent(length);

        // Cleared so the pool does not keep snapshots' targets alive.
        public void Dispose() => ArrayPool<Candidate>.Shared.Return(Array, clearArray: true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment {Deployment} failed before the first byte ({Reason}); retrying request {RequestId} elsewhere")]
    private partial void LogRetry(string deployment, string reason, string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment {Deployment} taken out after {Failures} consecutive failures, for {Seconds} s")]
    private partial void LogEjected(string deployment, int failures, double seconds);
}
