using System.Net;
using Flare.Web.Gateway;
using Microsoft.Extensions.Options;

namespace Flare.Web.Security;

/// <summary>Lets a <c>/metrics</c> scrape through per <see cref="MetricsOptions.Access"/>.</summary>
internal sealed class MetricsAccessFilter(IOptions<MetricsOptions> options, ApiKeyAuthenticator keys) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var allowed = options.Value.Access switch
        {
            MetricsAccess.Open => true,
            MetricsAccess.Loopback => http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip),
            MetricsAccess.ApiKey => keys.Authenticate(http.Request) is not null,
            _ => false,
        };
        if (allowed)
        {
            return next(context);
        }

        return ValueTask.FromResult<object?>(options.Value.Access switch
        {
            MetricsAccess.Off => Results.NotFound(),
            MetricsAccess.ApiKey => Results.Problem(statusCode: 401, title: "/metrics needs a valid API key as a bearer token (Flare:Metrics:Access = ApiKey)."),
            _ => Results.Problem(statusCode: 403, title: "/metrics answers only on loopback (Flare:Metrics:Access = Loopback)."),
        });
    }
}
