package source

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The default clients come from the SDK's own configuration loading for the profile being served, so the
// endpoint settings the SDKs honour (AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_STS, endpoint_url, services) apply
// here too. The profile is named explicitly so a stray AWS_PROFILE cannot break the load. Loading happens
// only when a fetch is needed: a cached set is served without it.

func sdkConfig(ctx context.Context, profile, region string, creds aws.CredentialsProvider) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithCredentialsProvider(creds)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS SDK configuration for profile %s: %w", profile, err)
	}
	return cfg, nil
}

// SDKPortal returns the SSO portal client factory for profile. GetRoleCredentials is unsigned (bearer token).
func SDKPortal(profile string) func(ctx context.Context, region string) (GetRoleCredentialsAPI, error) {
	return func(ctx context.Context, region string) (GetRoleCredentialsAPI, error) {
		cfg, err := sdkConfig(ctx, profile, region, aws.AnonymousCredentials{})
		if err != nil {
			return nil, err
		}
		return sso.NewFromConfig(cfg), nil
	}
}

// SDKSTS returns the STS client factory for profile.
func SDKSTS(profile string) STSFactory {
	return func(ctx context.Context, region string, creds aws.CredentialsProvider) (STSAPI, error) {
		cfg, err := sdkConfig(ctx, profile, region, creds)
		if err != nil {
			return nil, err
		}
		return sts.NewFromConfig(cfg), nil
	}
}
