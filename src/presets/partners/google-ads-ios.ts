import { googleAdsAppConversionPreset } from '../google-ads-app-conversions';

export default googleAdsAppConversionPreset({ platform: 'iOS', idType: 'idfa' });
