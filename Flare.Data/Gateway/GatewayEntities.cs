namespace Flare.Data.Gateway;

/// <summary>
/// A client API key for <c>/v1</c>. Only a SHA-256 of the key is stored: keys are 256-bit random
/// secrets, so a fast unsalted hash is enough to make a leaked table useless, and it lets a request be
/// checked with one hash and one dictionary look-up.
/// </summary>
public sealed class ApiKeyEntity
{
    public int Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The first characters of the key, shown so that an operator can tell keys apart.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the whole key.</summary>
    public string KeyHash { get; set; } = "";

    /// <summary>Requests per minute this key may send; null for no limit.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens (input + output) per minute this key may use; null for no limit.</summary>
    public int? TokensPerMinute { get; set; }

    public DateTime CreatedUtc { get; set; }
    public DateTime? RevokedUtc { get; set; }
}

/// <summary>One request Flare served (or refused) on <c>/v1</c>: what was asked, where it went, what it cost.</summary>
public sealed class RequestLogEntity
{
    public long Id { get; set; }
    public string RequestId { get; set; } = "";
    public DateTime TimestampUtc { get; set; }
    public int? ApiKeyId { get; set; }
    public string Endpoint { get; set; } = "";
    public string RequestedModel { get; set; } = "";
    public int? DeploymentId { get; set; }
    public string? DeploymentName { get; set; }
    public string? Policy { get; set; }
    public bool Stream { get; set; }
    public int Status { get; set; }
    public string? ErrorType { get; set; }
    public int? InputTokens { get; set; }
    public int? OutputTokens { get; set; }
    public double? CostUsd { get; set; }
    public double? TtftMs { get; set; }
    public double E2eMs { get; set; }
    public double OverheadMs { get; set; }
    public int Attempts { get; set; }

    /// <summary>The routing plan's version the request was routed by (0: a policy's built-in defaults); null when it
    /// named a model and was not routed by a plan.</summary>
    public long? PlanVersion { get; set; }

    /// <summary>The routing decision explained, as JSON (<c>Flare.Routing.Routing.RoutingExplanation</c>): every
    /// candidate's estimates, prices and score, and why the winner won. Null for requests no scoring policy decided.</summary>
    public string? Explanation { get; set; }

    /// <summary>The application's score of the answer in [0, 1], from <c>POST /v1/feedback</c>; null until it sends one.</summary>
    public double? FeedbackScore { get; set; }

    /// <summary>The decision as the request path left it, turned into <see cref="Explanation"/> off the request path by
    /// the log writer. Not stored.</summary>
    public Flare.Routing.Routing.RoutingDecisionRecord? Decision { get; set; }
}
