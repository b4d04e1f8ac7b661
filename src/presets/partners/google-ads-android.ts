import { googleAdsAppConversionPreset } from '../google-ads-app-conversions';

export default googleAdsAppConversionPreset({ platform: 'Android', idType: 'advertisingid' });
