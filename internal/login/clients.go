package login

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

// OIDC is the part of the SSO OIDC client that login uses.
type OIDC interface {
	RegisterClient(context.Context, *ssooidc.RegisterClientInput, ...func(*ssooidc.Options)) (*ssooidc.RegisterClientOutput, error)
	StartDeviceAuthorization(context.Context, *ssooidc.StartDeviceAuthorizationInput, ...func(*ssooidc.Options)) (*ssooidc.StartDeviceAuthorizationOutput, error)
	CreateToken(context.Context, *ssooidc.CreateTokenInput, ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error)
}

// Portal is the part of the SSO portal client that login uses.
type Portal interface {
	Logout(context.Context, *sso.LogoutInput, ...func(*sso.Options)) (*sso.LogoutOutput, error)
}

// Clients are the AWS clients for one session's region.
type Clients struct {
	OIDC   OIDC
	Portal Portal
	// AuthorizeURL is the base of the OIDC endpoint (scheme://host), where the
	// browser is sent for the PKCE flow's /authorize.
	AuthorizeURL string
}

// ClientFactory builds the clients for a region.
type ClientFactory func(ctx context.Context, region string) (*Clients, error)

// SDKClients builds real aws-sdk-go-v2 clients. They follow the SDK's shared
// config and environment, so AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO
// move them (to the emulator, in tests). These operations are unsigned, so no
// credentials are resolved.
func SDKClients(ctx context.Context, region string) (*Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS SDK configuration: %w", err)
	}
	oidc := ssooidc.NewFromConfig(cfg)
	base := ""
	if b := oidc.Options().BaseEndpoint; b != nil {
		base = *b
	} else {
		ep, err := ssooidc.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssooidc.EndpointParameters{Region: aws.String(region)})
		if err != nil {
			return nil, fmt.Errorf("resolving the SSO OIDC endpoint for %s: %w", region, err)
		}
		base = ep.URI.Scheme + "://" + ep.URI.Host
	}
	return &Clients{OIDC: oidc, Portal: sso.NewFromConfig(cfg), AuthorizeURL: base}, nil
}
