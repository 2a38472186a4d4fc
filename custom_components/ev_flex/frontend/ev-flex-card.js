var F=globalThis,z=F.ShadowRoot&&(F.ShadyCSS===void 0||F.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,W=Symbol(),ot=new WeakMap,M=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==W)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(z&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=ot.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&ot.set(e,t))}return t}toString(){return this.cssText}},at=r=>new M(typeof r=="string"?r:r+"",void 0,W),T=(r,...t)=>{let e=r.length===1?r[0]:t.reduce((s,i,o)=>s+(n=>{if(n._$cssResult$===!0)return n.cssText;if(typeof n=="number")return n;throw Error("Value passed to 'css' function must be a 'css' function result: "+n+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+r[o+1],r[0]);return new M(e,r,W)},ct=(r,t)=>{if(z)r.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),i=F.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=e.cssText,r.appendChild(s)}},q=z?r=>r:r=>r instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return at(e)})(r):r;var{is:Tt,defineProperty:Rt,getOwnPropertyDescriptor:Nt,getOwnPropertyNames:Ut,getOwnPropertySymbols:Dt,getPrototypeOf:Ot}=Object,L=globalThis,ht=L.trustedTypes,Ht=ht?ht.emptyScript:"",Ft=L.reactiveElementPolyfillSupport,R=(r,t)=>r,K={toAttribute(r,t){switch(t){case Boolean:r=r?Ht:null;break;case Object:case Array:r=r==null?r:JSON.stringify(r)}return r},fromAttribute(r,t){let e=r;switch(t){case Boolean:e=r!==null;break;case Number:e=r===null?null:Number(r);break;case Object:case Array:try{e=JSON.parse(r)}catch{e=null}}return e}},dt=(r,t)=>!Tt(r,t),lt={attribute:!0,type:String,converter:K,reflect:!1,useDefault:!1,hasChanged:dt};Symbol.metadata??=Symbol("metadata"),L.litPropertyMetadata??=new WeakMap;var b=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=lt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(t,s,e);i!==void 0&&Rt(this.prototype,t,i)}}static getPropertyDescriptor(t,e,s){let{get:i,set:o}=Nt(this.prototype,t)??{get(){return this[e]},set(n){this[e]=n}};return{get:i,set(n){let h=i?.call(this);o?.call(this,n),this.requestUpdate(t,h,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??lt}static _$Ei(){if(this.hasOwnProperty(R("elementProperties")))return;let t=Ot(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(R("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(R("properties"))){let e=this.properties,s=[...Ut(e),...Dt(e)];for(let i of s)this.createProperty(i,e[i])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,i]of e)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let i=this._$Eu(e,s);i!==void 0&&this._$Eh.set(i,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let i of s)e.unshift(q(i))}else t!==void 0&&e.push(q(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return ct(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),i=this.constructor._$Eu(t,s);if(i!==void 0&&s.reflect===!0){let o=(s.converter?.toAttribute!==void 0?s.converter:K).toAttribute(e,s.type);this._$Em=t,o==null?this.removeAttribute(i):this.setAttribute(i,o),this._$Em=null}}_$AK(t,e){let s=this.constructor,i=s._$Eh.get(t);if(i!==void 0&&this._$Em!==i){let o=s.getPropertyOptions(i),n=typeof o.converter=="function"?{fromAttribute:o.converter}:o.converter?.fromAttribute!==void 0?o.converter:K;this._$Em=i;let h=n.fromAttribute(e,o.type);this[i]=h??this._$Ej?.get(i)??h,this._$Em=null}}requestUpdate(t,e,s,i=!1,o){if(t!==void 0){let n=this.constructor;if(i===!1&&(o=this[t]),s??=n.getPropertyOptions(t),!((s.hasChanged??dt)(o,e)||s.useDefault&&s.reflect&&o===this._$Ej?.get(t)&&!this.hasAttribute(n._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:i,wrapped:o},n){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,n??e??this[t]),o!==!0||n!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),i===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,o]of this._$Ep)this[i]=o;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,o]of s){let{wrapped:n}=o,h=this[i];n!==!0||this._$AL.has(i)||h===void 0||this.C(i,void 0,o,h)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};b.elementStyles=[],b.shadowRootOptions={mode:"open"},b[R("elementProperties")]=new Map,b[R("finalized")]=new Map,Ft?.({ReactiveElement:b}),(L.reactiveElementVersions??=[]).push("2.1.2");var tt=globalThis,pt=r=>r,B=tt.trustedTypes,ut=B?B.createPolicy("lit-html",{createHTML:r=>r}):void 0,vt="$lit$",w=`lit$${Math.random().toFixed(9).slice(2)}$`,xt="?"+w,zt=`<${xt}>`,E=document,U=()=>E.createComment(""),D=r=>r===null||typeof r!="object"&&typeof r!="function",et=Array.isArray,Lt=r=>et(r)||typeof r?.[Symbol.iterator]=="function",G=`[ 	
\f\r]`,N=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,_t=/-->/g,gt=/>/g,A=RegExp(`>|${G}(?:([^\\s"'>=/]+)(${G}*=${G}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),ft=/'/g,mt=/"/g,yt=/^(?:script|style|textarea|title)$/i,st=r=>(t,...e)=>({_$litType$:r,strings:t,values:e}),_=st(1),f=st(2),pe=st(3),k=Symbol.for("lit-noChange"),c=Symbol.for("lit-nothing"),$t=new WeakMap,S=E.createTreeWalker(E,129);function bt(r,t){if(!et(r)||!r.hasOwnProperty("raw"))throw Error("invalid template strings array");return ut!==void 0?ut.createHTML(t):t}var Bt=(r,t)=>{let e=r.length-1,s=[],i,o=t===2?"<svg>":t===3?"<math>":"",n=N;for(let h=0;h<e;h++){let a=r[h],p,u,l=-1,$=0;for(;$<a.length&&(n.lastIndex=$,u=n.exec(a),u!==null);)$=n.lastIndex,n===N?u[1]==="!--"?n=_t:u[1]!==void 0?n=gt:u[2]!==void 0?(yt.test(u[2])&&(i=RegExp("</"+u[2],"g")),n=A):u[3]!==void 0&&(n=A):n===A?u[0]===">"?(n=i??N,l=-1):u[1]===void 0?l=-2:(l=n.lastIndex-u[2].length,p=u[1],n=u[3]===void 0?A:u[3]==='"'?mt:ft):n===mt||n===ft?n=A:n===_t||n===gt?n=N:(n=A,i=void 0);let v=n===A&&r[h+1].startsWith("/>")?" ":"";o+=n===N?a+zt:l>=0?(s.push(p),a.slice(0,l)+vt+a.slice(l)+w+v):a+w+(l===-2?h:v)}return[bt(r,o+(r[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},O=class r{constructor({strings:t,_$litType$:e},s){let i;this.parts=[];let o=0,n=0,h=t.length-1,a=this.parts,[p,u]=Bt(t,e);if(this.el=r.createElement(p,s),S.currentNode=this.el.content,e===2||e===3){let l=this.el.content.firstChild;l.replaceWith(...l.childNodes)}for(;(i=S.nextNode())!==null&&a.length<h;){if(i.nodeType===1){if(i.hasAttributes())for(let l of i.getAttributeNames())if(l.endsWith(vt)){let $=u[n++],v=i.getAttribute(l).split(w),x=/([.?@])?(.*)/.exec($);a.push({type:1,index:o,name:x[2],strings:v,ctor:x[1]==="."?J:x[1]==="?"?X:x[1]==="@"?Q:P}),i.removeAttribute(l)}else l.startsWith(w)&&(a.push({type:6,index:o}),i.removeAttribute(l));if(yt.test(i.tagName)){let l=i.textContent.split(w),$=l.length-1;if($>0){i.textContent=B?B.emptyScript:"";for(let v=0;v<$;v++)i.append(l[v],U()),S.nextNode(),a.push({type:2,index:++o});i.append(l[$],U())}}}else if(i.nodeType===8)if(i.data===xt)a.push({type:2,index:o});else{let l=-1;for(;(l=i.data.indexOf(w,l+1))!==-1;)a.push({type:7,index:o}),l+=w.length-1}o++}}static createElement(t,e){let s=E.createElement("template");return s.innerHTML=t,s}};function C(r,t,e=r,s){if(t===k)return t;let i=s!==void 0?e._$Co?.[s]:e._$Cl,o=D(t)?void 0:t._$litDirective$;return i?.constructor!==o&&(i?._$AO?.(!1),o===void 0?i=void 0:(i=new o(r),i._$AT(r,e,s)),s!==void 0?(e._$Co??=[])[s]=i:e._$Cl=i),i!==void 0&&(t=C(r,i._$AS(r,t.values),i,s)),t}var Z=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,i=(t?.creationScope??E).importNode(e,!0);S.currentNode=i;let o=S.nextNode(),n=0,h=0,a=s[0];for(;a!==void 0;){if(n===a.index){let p;a.type===2?p=new H(o,o.nextSibling,this,t):a.type===1?p=new a.ctor(o,a.name,a.strings,this,t):a.type===6&&(p=new Y(o,this,t)),this._$AV.push(p),a=s[++h]}n!==a?.index&&(o=S.nextNode(),n++)}return S.currentNode=E,i}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},H=class r{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,i){this.type=2,this._$AH=c,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=C(this,t,e),D(t)?t===c||t==null||t===""?(this._$AH!==c&&this._$AR(),this._$AH=c):t!==this._$AH&&t!==k&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Lt(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==c&&D(this._$AH)?this._$AA.nextSibling.data=t:this.T(E.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,i=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=O.createElement(bt(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(e);else{let o=new Z(i,this),n=o.u(this.options);o.p(e),this.T(n),this._$AH=o}}_$AC(t){let e=$t.get(t.strings);return e===void 0&&$t.set(t.strings,e=new O(t)),e}k(t){et(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,i=0;for(let o of t)i===e.length?e.push(s=new r(this.O(U()),this.O(U()),this,this.options)):s=e[i],s._$AI(o),i++;i<e.length&&(this._$AR(s&&s._$AB.nextSibling,i),e.length=i)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=pt(t).nextSibling;pt(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},P=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,i,o){this.type=1,this._$AH=c,this._$AN=void 0,this.element=t,this.name=e,this._$AM=i,this.options=o,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=c}_$AI(t,e=this,s,i){let o=this.strings,n=!1;if(o===void 0)t=C(this,t,e,0),n=!D(t)||t!==this._$AH&&t!==k,n&&(this._$AH=t);else{let h=t,a,p;for(t=o[0],a=0;a<o.length-1;a++)p=C(this,h[s+a],e,a),p===k&&(p=this._$AH[a]),n||=!D(p)||p!==this._$AH[a],p===c?t=c:t!==c&&(t+=(p??"")+o[a+1]),this._$AH[a]=p}n&&!i&&this.j(t)}j(t){t===c?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},J=class extends P{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===c?void 0:t}},X=class extends P{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==c)}},Q=class extends P{constructor(t,e,s,i,o){super(t,e,s,i,o),this.type=5}_$AI(t,e=this){if((t=C(this,t,e,0)??c)===k)return;let s=this._$AH,i=t===c&&s!==c||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,o=t!==c&&(s===c||i);i&&this.element.removeEventListener(this.name,this,s),o&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Y=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){C(this,t)}};var It=tt.litHtmlPolyfillSupport;It?.(O,H),(tt.litHtmlVersions??=[]).push("3.3.3");var wt=(r,t,e)=>{let s=e?.renderBefore??t,i=s._$litPart$;if(i===void 0){let o=e?.renderBefore??null;s._$litPart$=i=new H(t.insertBefore(U(),o),o,void 0,e??{})}return i._$AI(r),i};var it=globalThis,y=class extends b{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=wt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return k}};y._$litElement$=!0,y.finalized=!0,it.litElementHydrateSupport?.({LitElement:y});var Vt=it.litElementPolyfillSupport;Vt?.({LitElement:y});(it.litElementVersions??=[]).push("4.2.2");var g={left:40,right:34,top:20,bottom:22},jt=[1,2,3,4,6,12,24],Wt=44,m=r=>new Date(r).getTime();function qt(r,t){let e=new Intl.DateTimeFormat("en-GB",{hour:"numeric",hourCycle:"h23",timeZone:t}).formatToParts(r);return Number(e.find(s=>s.type==="hour")?.value??r.getHours())}function Kt(r,t){let s=(t-r||1)/3,i=10**Math.floor(Math.log10(s)),o=[1,2,2.5,5,10].map(a=>a*i).find(a=>a>=s)||s,n=[],h=Math.ceil(t/o-1e-9);for(let a=Math.floor(r/o+1e-9);a<=h;a+=1)n.push(Number((a*o).toPrecision(12)));return n}function Gt(r,t,e){let s=r.prices||[],i=r.plan?.slots||[],o=[...s.map(d=>m(d.start)),...i.map(d=>m(d.start))],n=[...s.map(d=>m(d.end)),...i.map(d=>m(d.end))],h=Math.min(...o),a=Math.max(...n),p=s.map(d=>d.price),u=Kt(Math.min(0,...p),Math.max(...p,.01)),l=u[0],$=u[u.length-1],v=t-g.right,x=e-g.bottom,j=x-g.top,nt=i.some(d=>d.discharge_kw>0)?g.top+j*.72:x,Mt=Math.max(...i.map(d=>Math.max(d.charge_kw||0,d.discharge_kw||0)),.1);return{t0:h,t1:a,ticks:u,plotRight:v,plotBottom:x,zero:nt,x:d=>g.left+(d-h)/(a-h||1)*(v-g.left),price:d=>x-(d-l)/($-l||1)*j,soc:d=>x-d/100*j,kw:d=>d/Mt*(nt-g.top)*.62}}function Zt(r,t,e){let s=(r.t1-r.t0)/36e5,i=(r.plotRight-g.left)/(s||1),o=jt.find(h=>h*i>=Wt)||24,n=[];for(let h=Math.ceil(r.t0/36e5)*36e5;h<=r.t1;h+=36e5){let a=new Date(h);qt(a,e)%o===0&&n.push({x:r.x(h),label:t.hour(a)})}return n}function Jt(r,t){let e="";for(let s of r.prices||[]){let i=t.price(s.price);e+=e?` V${i.toFixed(1)}`:`M${t.x(m(s.start)).toFixed(1)} ${i.toFixed(1)}`,e+=` H${t.x(m(s.end)).toFixed(1)}`}return e}function Xt(r,t){let e=[];for(let s of r.plan?.slots||[]){let i=t.x(m(s.start)),o=Math.max(1,t.x(m(s.end))-i-.5);if(s.charge_kw>0){let n=t.kw(s.charge_kw);e.push({kind:"charge",start:s.start,kw:s.charge_kw,x:i,y:t.zero-n,width:o,height:n})}if(s.discharge_kw>0){let n=t.kw(s.discharge_kw);e.push({kind:"discharge",start:s.start,kw:s.discharge_kw,x:i,y:t.zero,width:o,height:n})}}return e}function Qt(r,t){return Xt(r,t).map(e=>f`<rect class=${e.kind} data-start=${e.start} data-kw=${e.kw}
      x=${e.x.toFixed(1)} y=${e.y.toFixed(1)} width=${e.width.toFixed(1)} height=${e.height.toFixed(1)}></rect>`)}function Yt(r,t){let e=r.prices||[];if(!e.length)return null;let s=Math.max(...e.map(i=>m(i.end)));return s<t.t1?t.x(s):null}function te(r,t){let e=Yt(r,t);if(e==null)return c;let s=t.plotRight-e;return f`<g class="guessed">
    <rect x=${e} y=${g.top} width=${s} height=${t.plotBottom-g.top}></rect>
    ${s>70?f`<text x=${e+4} y=${g.top+12}>prices not yet known</text>`:c}
  </g>`}function ee(r,t){let e=r.plan?.slots||[];if(!e.length)return"";let s=r.soc_pct??e[0].soc_pct_end,i=[`${t.x(m(e[0].start)).toFixed(1)},${t.soc(s).toFixed(1)}`];for(let o of e)o.soc_pct_end!=null&&i.push(`${t.x(m(o.end)).toFixed(1)},${t.soc(o.soc_pct_end).toFixed(1)}`);return i.join(" ")}function se(r,t,e){if(!r.departure)return c;let s=m(r.departure);if(s<t.t0||s>t.t1)return c;let i=t.x(s),o=r.target_soc_pct??r.plan?.summary?.target_soc_pct,n=i>t.plotRight-60?"end":"middle";return f`<g class="departure">
    <line x1=${i} x2=${i} y1=${g.top} y2=${t.plotBottom}></line>
    ${o==null?c:f`<circle cx=${i} cy=${t.soc(o)} r="4"></circle>`}
    <text x=${i} y=${g.top-6} text-anchor=${n}>${e.time(r.departure)}${o==null?"":` · ${e.percent(o)}`}</text>
  </g>`}function ie(r,t){let e=t.getTime();if(e<r.t0||e>r.t1)return c;let s=r.x(e);return f`<g class="now"><line x1=${s} x2=${s} y1=${g.top} y2=${r.plotBottom}></line>
    <text x=${s+3} y=${r.plotBottom-4}>now</text></g>`}function At(r,{width:t,formats:e,timeZone:s,now:i=new Date}){if(!r.prices?.length&&!r.plan?.slots?.length)return c;let o=t<500?190:230,n=Gt(r,t,o),h=ee(r,n);return f`<svg class="chart" viewBox="0 0 ${t} ${o}" width=${t} height=${o} role="img"
      aria-label="Prices and the charging plan">
    <g class="grid">
      ${n.ticks.map(a=>f`<line x1=${g.left} x2=${n.plotRight} y1=${n.price(a)} y2=${n.price(a)}></line>
        <text class="axis" x=${g.left-4} y=${n.price(a)+3} text-anchor="end">${e.price(a)}</text>`)}
      ${[0,50,100].map(a=>f`<text class="axis soc-axis" x=${n.plotRight+4} y=${n.soc(a)+3}>${a}%</text>`)}
      ${Zt(n,e,s).map(a=>f`<text class="axis" x=${a.x} y=${n.plotBottom+15} text-anchor="middle">${a.label}</text>`)}
    </g>
    ${te(r,n)}
    <g class="bars">${Qt(r,n)}</g>
    <path class="price" d=${Jt(r,n)}></path>
    ${h?f`<polyline class="soc" points=${h}></polyline>`:c}
    ${ie(n,i)}
    ${se(r,n,e)}
  </svg>`}var I=class extends y{static properties={hass:{attribute:!1},_config:{state:!0},_vehicles:{state:!0}};setConfig(t){this._config=t}updated(){this.hass&&this._vehicles===void 0&&(this._vehicles=null,this.hass.callWS({type:"ev_flex/vehicles"}).then(t=>this._vehicles=t).catch(()=>this._vehicles=[]))}_schema(){return[{name:"device_id",required:!0,selector:{select:{mode:"dropdown",options:(this._vehicles||[]).map(e=>({value:e.device_id,label:e.name}))}}}]}_changed(t){let e={...this._config,...t.detail.value};this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:e},bubbles:!0,composed:!0}))}render(){return!this.hass||!this._config?_``:Array.isArray(this._vehicles)&&!this._vehicles.length?_`<p class="empty">EV Flex has no vehicle yet: add one under Settings → Devices &amp; services.</p>`:_`<ha-form
      .hass=${this.hass}
      .data=${this._config}
      .schema=${this._schema()}
      .computeLabel=${()=>"Vehicle"}
      @value-changed=${this._changed}
    ></ha-form>`}static styles=T`
    .empty {
      color: var(--secondary-text-color);
    }
  `};var V=class{constructor(t){let e=t?.locale?.language||t?.language||"en",s=t?.config?.time_zone||void 0,i=t?.locale?.time_format==="12"?!0:t?.locale?.time_format==="24"?!1:void 0;this._time=new Intl.DateTimeFormat(e,{hour:"2-digit",minute:"2-digit",hour12:i,timeZone:s}),this._hour=new Intl.DateTimeFormat(e,{hour:"2-digit",hour12:i,timeZone:s}),this._day=new Intl.DateTimeFormat(e,{weekday:"short",timeZone:s}),this._dateKey=new Intl.DateTimeFormat("en-CA",{year:"numeric",month:"2-digit",day:"2-digit",timeZone:s}),this._money=new Intl.NumberFormat(e,{minimumFractionDigits:2,maximumFractionDigits:2}),this._whole=new Intl.NumberFormat(e,{maximumFractionDigits:0}),this._price=new Intl.NumberFormat(e,{minimumFractionDigits:2,maximumFractionDigits:2})}time(t){return this._time.format(new Date(t))}hour(t){return this._hour.format(t)}moment(t,e=new Date){let s=new Date(t);return this._dateKey.format(s)===this._dateKey.format(e)?this.time(t):`${this._day.format(s)} ${this.time(t)}`}money(t){return this._money.format(t)}price(t){return this._price.format(t)}percent(t){return`${this._whole.format(t)} %`}},St={not_found:"This vehicle is not (or no longer) in EV Flex. Pick another vehicle in the card's settings.",no_vehicle:"Pick a vehicle in the card's settings.",unavailable:"EV Flex is not running for this vehicle right now (it may be reloading).",no_reading:"No battery level from the car yet: the plan appears once the car reports one.",no_prices:"No electricity prices yet: pick a price sensor in EV Flex's options, or wait for today's prices.",no_plan:"No plan yet: EV Flex plans as soon as it knows the battery size, the battery level and the prices."};function kt(r){return St[r]||St.unavailable}function re(r){let e=(r.plan?.summary?.switch_times||[]).find(s=>(s.mode||"charge")==="charge");return e?{start:e.start,end:e.end}:r.next_start?{start:r.next_start,end:r.next_stop}:null}function Et(r,t){let e=r.estimated_cost,s=r.charge_now_cost;if(e==null||s==null||!(s>0))return"";let i=`costs ${t.money(e)} ${r.currency}`,o=Math.round((s-e)/s*100);return o>=1?`${i}, ${t.percent(o)} less than now`:i}function Ct(r,t,e=new Date){let s=r.status||"unknown",i=re(r),o=i?`${t.moment(i.start,e)}–${t.time(i.end)}`:"";switch(s){case"disabled":case"plan_ended_disabled":return"Smart charging is off: the car charges as soon as it is plugged in.";case"plan_executing_stopped":case"plan_executing_stopped_awaiting_prices":{if(!i)return"Waiting: nothing needs charging before the departure.";let n=Et(r,t);return`Waiting for cheaper prices: charging ${o}${n?` ${n}`:""}.`}case"plan_executing_starting":case"plan_executing_started":{let n=i?.end?` until ${t.time(i.end)}`:"",h=Et(r,t);return`Charging now, in the cheapest hours${n}${h?`: the plan ${h}`:""}.`}case"plan_executing_stopping":return"Stopping the charge: the cheap hours are over for now.";case"plan_executing_charging_now":return"Charging now, as you asked, until the target or until you cancel.";case"plan_executing_overridden":return"Someone else took over charging (an app or the car's own schedule). Cancel the override to follow the plan again.";case"plan_executing_discharging":return"Discharging to the grid while prices are high, never below the reserve.";case"plan_executing_start_failed":case"plan_executing_stop_failed":case"plan_executing_charge_interrupted":case"plan_ended_failed":return"The car or charger did not follow the last command; EV Flex keeps trying.";case"plan_ended_unplugged":return"The car is unplugged: the plan starts again when it is plugged in.";case"plan_ended_finished":case"fully_charged":return"Charged: the car reached its target.";case"considering":return"Working out the cheapest plan.";default:return r.plugged_in===!1?"The car is unplugged.":"Waiting for the car."}}function Pt(r,t,e=new Date){if(!r.departure)return null;let s=r.plan?.summary||{},i=r.expected_soc_at_departure_pct??s.expected_soc_at_departure_pct,o=r.target_soc_pct??s.target_soc_pct,n=r.shortfall_pct??(i!=null&&o!=null?Math.max(0,o-i):null);return{when:t.moment(r.departure,e),expected:i==null?null:t.percent(i),target:o==null?null:t.percent(o),shortfall:n!=null&&n>=.5?t.percent(n):null}}var ne=15e3,oe=new Set(["plan_executing_charging_now","plan_executing_overridden","plan_executing_discharging"]),rt=class extends y{static properties={hass:{attribute:!1},_config:{state:!0},_data:{state:!0},_problem:{state:!0},_error:{state:!0},_width:{state:!0}};static getConfigElement(){return document.createElement("ev-flex-card-editor")}static async getStubConfig(t){return{device_id:(await t.callWS({type:"ev_flex/vehicles"}).catch(()=>[]))[0]?.device_id??""}}setConfig(t){if(!t||typeof t!="object")throw new Error("Invalid configuration");this._config?.device_id!==t.device_id&&this._unsubscribe(),this._config={...t},this._data=void 0,this._problem=t.device_id?void 0:"no_vehicle"}getCardSize(){return 7}getGridOptions(){return{columns:12,min_columns:6,rows:"auto"}}connectedCallback(){super.connectedCallback(),this._resize=new ResizeObserver(t=>{let e=Math.floor(t[0].contentRect.width);e>0&&e!==this._width&&(this._width=e)}),this.updateComplete.then(()=>{let t=this.renderRoot.querySelector(".frame");t&&this._resize&&this._resize.observe(t)})}disconnectedCallback(){super.disconnectedCallback(),this._resize?.disconnect(),this._resize=void 0,this._unsubscribe()}shouldUpdate(t){if(!t.has("hass")||t.size>1)return!0;let e=t.get("hass");return!e||!this._data?.entities||!this._subscription||e.locale!==this.hass.locale||e.themes!==this.hass.themes?!0:Object.values(this._data.entities).some(s=>s&&e.states[s]!==this.hass.states[s])}updated(){this.hass&&this._config?.device_id&&!this._subscription&&this.isConnected&&this._subscribe();let t=this.renderRoot.querySelector(".frame");t&&this._resize&&t!==this._observed&&(this._observed=t,this._resize.observe(t))}_subscribe(){let t=this._config.device_id;this._subscription=this.hass.connection.subscribeMessage(e=>this._received(e),{type:"ev_flex/vehicle_plan/subscribe",device_id:t}).catch(e=>{this._subscription=void 0,this._problem=e?.code==="not_found"?"not_found":"unavailable",this._problem==="unavailable"&&this._retryLater()})}_received(t){if(t.problem==="unavailable"&&!t.prices){this._unsubscribe(),this._problem="unavailable",this._retryLater();return}this._data=t,this._problem=t.problem||void 0}_retryLater(){clearTimeout(this._retry),this._retry=setTimeout(()=>this.requestUpdate(),ne)}_unsubscribe(){clearTimeout(this._retry);let t=this._subscription;this._subscription=void 0,t?.then(e=>e?.()).catch(()=>{})}_state(t){let e=this._data?.entities?.[t];return e?this.hass.states[e]:void 0}async _call(t,e,s){this._error=void 0;try{await this.hass.callService(t,e,s)}catch(i){this._error=i?.message||String(i)}}_toggle(t){let e=this._state(t);e&&this._call("switch",e.state==="on"?"turn_off":"turn_on",{entity_id:e.entity_id})}_setDeparture(t){let e=this._state("departure_time");e&&t.target.value&&this._call("time","set_value",{entity_id:e.entity_id,time:`${t.target.value}:00`})}_setTarget(t){let e=this._state("target_soc"),s=Number(t.target.value);e&&Number.isFinite(s)&&this._call("number","set_value",{entity_id:e.entity_id,value:s})}_action(t){this._call("ev_flex",t,{device_id:this._config.device_id})}render(){if(!this._config||!this.hass)return c;let t=this._data,e=new V(this.hass),s=new Date,i=this._problem&&(!t||["not_found","no_vehicle","unavailable"].includes(this._problem));return _`<ha-card>
      <div class="frame">
        ${t&&!i?this._header(t,e,s):_`<div class="name">EV Flex</div>`}
        ${this._problem?_`<div class="message ${this._problem}">${kt(this._problem)}</div>`:c}
        ${t&&!i&&this._width?_`<div class="chart-box">${At(t,{width:this._width,formats:e,timeZone:this.hass.config?.time_zone,now:s})}</div>
              ${this._legend(t)}`:c}
        ${t&&!i?this._controls(t):c}
        ${this._error?_`<div class="message error">${this._error}</div>`:c}
      </div>
    </ha-card>`}_header(t,e,s){let i=this._state("state"),o=i?this.hass.formatEntityState?.(i)??i.state:t.status??"",n=Pt(t,e,s);return _`<div class="header">
      <div class="title"><span class="name">${t.name}</span><span class="state">${o}</span></div>
      <div class="reason">${Ct(t,e,s)}</div>
      ${n?_`<div class="departure-line">
            ${`Departure ${n.when}: ${n.expected??"–"} expected${n.target?`, target ${n.target}`:""}`}
            ${n.shortfall?_`<span class="shortfall">${`${n.shortfall} short`}</span>`:c}
          </div>`:c}
    </div>`}_legend(t){let e=(t.plan?.slots||[]).some(s=>s.discharge_kw>0);return _`<div class="legend">
      <span class="key price">Price (${t.currency}/kWh)</span>
      <span class="key charge">Charging (kW)</span>
      ${e?_`<span class="key discharge">Discharging (kW)</span>`:c}
      <span class="key soc">Battery (%)</span>
    </div>`}_switch(t,e){let s=this._state(t);if(!s)return c;let i=s.state==="on";return _`<button class="toggle ${i?"on":""}" role="switch" aria-checked=${i?"true":"false"}
      ?disabled=${s.state==="unavailable"} @click=${()=>this._toggle(t)}>${`${e}: ${i?"on":"off"}`}</button>`}_controls(t){let e=this._state("departure_time"),s=this._state("target_soc"),i=oe.has(t.status);return _`<div class="controls">
      ${this._switch("smart_charging","Smart charging")}
      ${t.can_discharge?this._switch("v2g","V2G"):c}
      ${e?_`<label>Departure <input type="time" .value=${(e.state||"").slice(0,5)} @change=${this._setDeparture} /></label>`:c}
      ${s?_`<label>Target <input type="number" min=${s.attributes.min??10} max=${s.attributes.max??100}
            step=${s.attributes.step??1} .value=${String(Math.round(Number(s.state))||"")} @change=${this._setTarget} /> %</label>`:c}
      <button class="action" @click=${()=>this._action("charge_now")}>Charge now</button>
      <button class="action" ?disabled=${!i} @click=${()=>this._action("cancel_override")}>Cancel override</button>
    </div>`}static styles=T`
    :host {
      --ev-flex-price: var(--orange-color, #ff9800);
      --ev-flex-charge: var(--success-color, #43a047);
      --ev-flex-discharge: var(--purple-color, #926bc7);
      --ev-flex-soc: var(--primary-color, #03a9f4);
    }
    .frame {
      padding: 16px;
    }
    .title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 4px 12px;
    }
    .name {
      font-size: var(--ha-font-size-xl, 20px);
      color: var(--primary-text-color);
    }
    .state {
      font-weight: var(--ha-font-weight-medium, 500);
      color: var(--primary-color);
    }
    .reason,
    .departure-line {
      margin-top: 6px;
      color: var(--primary-text-color);
      line-height: 1.4;
    }
    .departure-line {
      color: var(--secondary-text-color);
    }
    .shortfall {
      color: var(--warning-color, #ffa600);
      font-weight: var(--ha-font-weight-medium, 500);
      margin-left: 4px;
    }
    .message {
      margin-top: 8px;
      padding: 8px 12px;
      border-radius: var(--ha-card-border-radius, 12px);
      background: var(--secondary-background-color);
      color: var(--primary-text-color);
    }
    .message.error,
    .message.not_found {
      color: var(--error-color, #db4437);
    }
    .chart-box {
      margin: 12px -4px 0;
      overflow: hidden;
    }
    .chart {
      display: block;
      font-size: 11px;
      font-family: inherit;
    }
    .chart .grid line {
      stroke: var(--divider-color);
      stroke-width: 1;
    }
    .chart .axis {
      fill: var(--secondary-text-color);
    }
    .chart .price {
      fill: none;
      stroke: var(--ev-flex-price);
      stroke-width: 2;
    }
    .chart rect.charge {
      fill: var(--ev-flex-charge);
      opacity: 0.75;
    }
    .chart rect.discharge {
      fill: var(--ev-flex-discharge);
      opacity: 0.75;
    }
    .chart .soc {
      fill: none;
      stroke: var(--ev-flex-soc);
      stroke-width: 2;
      stroke-dasharray: 5 3;
    }
    .chart .now line {
      stroke: var(--primary-text-color);
      stroke-width: 1;
    }
    .chart .now text,
    .chart .departure text {
      fill: var(--primary-text-color);
    }
    .chart .guessed rect {
      fill: var(--secondary-text-color);
      opacity: 0.08;
    }
    .chart .guessed text {
      fill: var(--secondary-text-color);
      font-style: italic;
    }
    .chart .departure line {
      stroke: var(--error-color, #db4437);
      stroke-dasharray: 3 3;
    }
    .chart .departure circle {
      fill: var(--ev-flex-soc);
      stroke: var(--card-background-color, #fff);
      stroke-width: 2;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      margin-top: 4px;
      font-size: 12px;
      color: var(--secondary-text-color);
    }
    .key::before {
      content: "";
      display: inline-block;
      width: 12px;
      height: 8px;
      margin-right: 5px;
      border-radius: 2px;
      vertical-align: middle;
    }
    .key.price::before {
      height: 2px;
      background: var(--ev-flex-price);
    }
    .key.charge::before {
      background: var(--ev-flex-charge);
    }
    .key.discharge::before {
      background: var(--ev-flex-discharge);
    }
    .key.soc::before {
      height: 0;
      border-top: 2px dashed var(--ev-flex-soc);
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      margin-top: 14px;
      align-items: center;
    }
    button,
    input {
      font: inherit;
      color: var(--primary-text-color);
      background: var(--secondary-background-color);
      border: 1px solid var(--divider-color);
      border-radius: 18px;
      padding: 6px 12px;
    }
    input {
      border-radius: 8px;
      padding: 4px 6px;
      color-scheme: light dark;
    }
    input[type="number"] {
      width: 3.5em;
    }
    button {
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button.toggle.on {
      background: var(--primary-color);
      border-color: var(--primary-color);
      color: var(--text-primary-color, #fff);
    }
    label {
      color: var(--secondary-text-color);
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
  `};customElements.get("ev-flex-card-editor")||customElements.define("ev-flex-card-editor",I);customElements.get("ev-flex-card")||(customElements.define("ev-flex-card",rt),window.customCards=window.customCards||[],window.customCards.push({type:"ev-flex-card",name:"EV Flex",description:"A car's charging plan against the prices, with its smart-charging controls.",preview:!0,documentationURL:"https://github.com/ev-flex/ev-flex#the-ev-flex-card"}));
